package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/intake"
	"github.com/senapred-valparaiso/vigia/internal/netlimit"
	"github.com/senapred-valparaiso/vigia/jobs"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/realtime"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
	"github.com/senapred-valparaiso/vigia/web"
)

func runServe(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	m := NewMain()
	fs := newFlagSet("serve")
	bindServe(fs, &m.Config, getenv)
	if err := parseFlags(fs, args, stderr, "Runs the hub: the HTTP API, live updates over WebSocket and the browser UI.\nWith no flags it keeps everything under ./data (embedded SQLite, in-memory read models)."); err != nil {
		return err
	}
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	m.Log = newLogger(stderr, m.Config.LogLevel, m.Config.LogFormat)
	if err := m.Open(ctx); err != nil {
		return err
	}
	m.Log.Info().Str("addr", m.Addr()).Msg("hub ready at http://" + displayAddr(m.Addr()))
	select {
	case <-ctx.Done():
		m.Log.Info().Msg("shutting down")
		return m.Close()
	case err := <-m.Failed():
		// The listener died: exit non-zero so the supervisor restarts the
		// hub, rather than stay up with a bound port nobody accepts on.
		return errors.Join(err, m.Close())
	}
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Main is the running hub. Tests build one with NewMain, set Config, and
// call Open and Close, as the serve command does.
type Main struct {
	Config Config
	Log    zerolog.Logger
	// Now is the clock for commands and the store (tests inject one).
	Now func() time.Time
	// PasswordParams hash passwords (tests use cheap ones).
	PasswordParams auth.Params

	stores     *stores
	fleet      *fleet
	broker     realtime.Broker
	notifier   *realtime.Publisher
	live       *ws.Hub
	model      readModel
	closeModel func() error
	projector  *projections.Projector
	history    *projections.History
	snapshots  projections.SnapshotStore
	commands   *command.Handler
	jobs       *jobs.Engine
	server     *web.Server
	ln         *netlimit.Listener
	failed     chan error  // the HTTP server stopped while not closing
	closing    atomic.Bool // Close has begun
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// NewMain returns a Main with the documented defaults.
func NewMain() *Main {
	m := &Main{Log: zerolog.Nop(), Now: time.Now, PasswordParams: auth.DefaultParams, failed: make(chan error, 1)}
	fs := newFlagSet("defaults")
	bindServe(fs, &m.Config, func(string) string { return "" })
	return m
}

// Open starts the hub: stores, first admin and demo data, read models
// rebuilt from the log, projector, HTTP listener.
func (m *Main) Open(ctx context.Context) (err error) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	st, err := openStores(ctx, &m.Config, m.Now)
	if err != nil {
		return err
	}
	m.stores = st
	defer func() {
		if err != nil {
			err = errors.Join(err, m.stopJobs())
			m.closeBackground()
			if m.fleet != nil {
				err = errors.Join(err, m.fleet.Close())
			}
			if m.closeModel != nil { // a Postgres read model's pool, and the lease CatchUp took
				err = errors.Join(err, m.closeModel())
			}
			err = errors.Join(err, st.Close())
		}
	}()
	m.commands = command.New(st.events, command.WithClock(m.Now))
	if err := bootstrapAdmin(ctx, &m.Config, m.commands, m.PasswordParams, m.Log); err != nil {
		return err
	}
	if m.Config.Demo {
		if err := seedDemo(ctx, m.commands, st, loc, m.PasswordParams, m.Log, m.Config.Addr); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	fl, err := openFleet(ctx, &m.Config, m.Log, m.Now)
	if err != nil {
		return err
	}
	m.fleet, m.broker = fl, fl.broker
	rm, err := openReadModel(ctx, &m.Config)
	if err != nil {
		return err
	}
	m.model, m.snapshots, m.closeModel = rm.model, rm.snapshots, rm.close
	m.notifier = realtime.NewPublisher(m.broker, m.Log)
	m.projector = projections.NewProjector(st.events, m.model, m.notifier, m.Log)
	// A client resuming from too far behind gets a snapshot of the read
	// models at the projector's position.
	snapshots := web.NewSnapshots(m.model, m.projector, m.commands.Now, loc)
	m.live = ws.NewHub(m.Log, ws.HubOptions{
		Snapshot: snapshots.Snapshot, ValidSince: web.ValidSince,
		MaxPerPrincipal: m.Config.WSMaxPerPrincipal, MaxPerIP: m.Config.WSMaxPerIP,
	})
	start := time.Now()
	n, err := m.projector.CatchUp(ctx)
	if err != nil {
		return err
	}
	m.Log.Info().Int("events", n).Dur("took", time.Since(start)).Msg("read models rebuilt from the log")

	m.history = projections.NewHistory(st.events, m.snapshots, loc, m.Log)

	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(3)
	go func() {
		defer m.wg.Done()
		_ = m.history.Run(runCtx) // day snapshots, for time travel
	}()
	go func() {
		defer m.wg.Done()
		_ = m.projector.Run(runCtx)
	}()
	go func() {
		defer m.wg.Done()
		if err := m.live.Run(runCtx, m.broker); err != nil && runCtx.Err() == nil {
			m.Log.Error().Err(err).Msg("live updates stopped")
		}
	}()

	// Background jobs (informe parsing) after the projector runs: a job
	// appends through the same command path as a request.
	workers := river.NewWorkers()
	jobNotices := intake.PublishTo(m.notifier)
	intake.NewWorker(workers, m.commands, loc, jobNotices, m.Log)
	m.jobs, err = jobs.Open(ctx, jobs.Config{URL: m.Config.jobsURL(), Workers: workers, Log: m.Log, Timeout: 30 * time.Second, RescueAfter: time.Minute})
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if err := m.jobs.Start(runCtx); err != nil {
		return err
	}

	var sessions auth.SessionStore = st.authDB.Sessions()
	if fl.sessions != nil {
		sessions = fl.sessions
	}
	svc, err := auth.NewService(auth.ServiceConfig{
		Accounts: web.NewAccounts(m.model), Sessions: sessions, Tokens: st.tokens,
		Limiter: fl.limiter, SoftLimiter: fl.soft, Params: m.PasswordParams, Now: m.Now,
	})
	if err != nil {
		return err
	}
	trusted, err := web.ParseTrustedProxies(m.Config.TrustedProxies)
	if err != nil {
		return err
	}
	m.server = web.New(web.Config{
		Live:           m.live,
		Log:            m.Log,
		Commands:       m.commands,
		Reads:          m.model,
		Projector:      m.projector,
		Auth:           svc,
		SecureCookies:  m.Config.SecureCookies,
		TrustedProxies: trusted,
		PasswordParams: m.PasswordParams,
		Location:       loc,
		Streams:        st.events,
		History:        m.history,
		Intake:         intake.New(m.jobs, jobNotices),
		Reconciler:     intake.NewReconciler(m.commands, m.model, st.events),
		Checks: []web.Check{
			{Name: "eventstore", Check: st.events.Ping}, {Name: "broker", Check: fl.ping},
			{Name: "readmodel", Check: m.model.Ping}, {Name: "jobs", Check: m.jobs.Ping},
		},
	})
	raw, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	// fasthttp gives up on the first accept error that is not a timeout
	// (EMFILE included): the listener retries those itself and caps
	// connections below the descriptor limit.
	nofile := netlimit.NoFile()
	limits := netlimit.Options{MaxConns: m.Config.maxConns(nofile), MaxConnsPerIP: m.Config.maxConnsPerIP(), Log: m.Log}
	m.Log.Info().Uint64("nofile", nofile).Int("max_conns", limits.MaxConns).Int("max_conns_per_ip", limits.MaxConnsPerIP).Msg("connection limits")
	ln := netlimit.New(raw, limits)
	m.ln = ln
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		err := m.server.App().Listener(ln)
		if m.closing.Load() {
			return
		}
		if err == nil {
			err = errors.New("listener closed")
		}
		m.Log.Error().Err(err).Msg("http server stopped: the hub exits so that it is restarted")
		m.failed <- fmt.Errorf("http server: %w", err)
	}()
	return nil
}

// Failed delivers an error if the HTTP server stops while the hub is not
// closing (its listener died); serve then exits non-zero.
func (m *Main) Failed() <-chan error { return m.failed }

// Addr is the address the hub listens on (useful with :0).
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Close stops accepting requests, waits for those in flight (bounded by
// ShutdownWait), stops the projector and closes the stores.
func (m *Main) Close() error {
	m.closing.Store(true)
	var errs []error
	if m.live != nil {
		// Say goodbye to WebSocket clients first (1001): they are hijacked
		// connections the HTTP shutdown would not wait for.
		errs = append(errs, m.live.Close())
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownWait)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	}
	errs = append(errs, m.stopJobs())
	m.closeBackground()
	if m.notifier != nil {
		m.notifier.Close()
	}
	if m.fleet != nil {
		errs = append(errs, m.fleet.Close())
	}
	if m.closeModel != nil {
		errs = append(errs, m.closeModel())
	}
	if m.stores != nil {
		errs = append(errs, m.stores.Close())
	}
	return errors.Join(errs...)
}

// stopJobs lets running jobs finish (bounded by ShutdownWait; one cut short
// runs again after the next start) and closes the jobs database.
func (m *Main) stopJobs() error {
	if m.jobs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownWait)
	defer cancel()
	err := errors.Join(m.jobs.Stop(ctx), m.jobs.Close())
	m.jobs = nil
	return err
}

func (m *Main) closeBackground() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}
