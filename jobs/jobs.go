package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // the embedded default's database/sql driver
)

// ErrNotFound is returned by Job for an ID the engine does not hold (never
// inserted, or removed by the retention period).
var ErrNotFound = errors.New("jobs: not found")

// Config says where the engine keeps its jobs and what it runs.
type Config struct {
	// URL is "postgres://…" (a fleet shares the jobs) or the path of a SQLite
	// file (one instance), e.g. "data/jobs.db".
	URL string
	// Workers are the job kinds this instance can run. Required.
	Workers *river.Workers
	// Periodic jobs are enqueued by the leader on their schedule.
	Periodic []*river.PeriodicJob
	// MaxWorkers bounds the jobs run at once (default 4).
	MaxWorkers int
	// Timeout bounds one attempt of a job (default 1 minute).
	Timeout time.Duration
	// RescueAfter is how long a job may stay "running" before it is taken
	// for dead (its process killed) and run again (default 2 minutes; must
	// exceed Timeout).
	RescueAfter time.Duration
	// Retention is how long finished jobs stay listed (default 30 days).
	Retention time.Duration
	// PollInterval is how often an idle engine looks for new jobs when it
	// cannot be told (SQLite; default 250 ms).
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of new jobs
	// (default 5 ms). River's own default, 100 ms, was most of an
	// informe's time from upload to appended (hub-bench intake: p50
	// 102 ms with it, 51 ms with 5 ms).
	FetchCooldown time.Duration
	Log           zerolog.Logger
}

// client is what Engine uses of a river.Client, whatever its driver's
// transaction type.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// Engine runs durable jobs. Open it, register nothing more, Start it; Stop
// it before Close.
type Engine struct {
	client client
	kind   string
	ping   func(context.Context) error
	close  func() error
}

// Open connects to the jobs database, brings its schema up to date and
// builds the engine (not yet started).
func Open(ctx context.Context, c Config) (*Engine, error) {
	if c.Workers == nil {
		return nil, errors.New("jobs: no workers")
	}
	rc := riverConfig(c)
	if IsPostgres(c.URL) {
		return openPostgres(ctx, c.URL, rc)
	}
	return openSQLite(ctx, c.URL, rc)
}

// IsPostgres reports whether url names a Postgres jobs database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

func riverConfig(c Config) *river.Config {
	d := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	workers := c.MaxWorkers
	if workers <= 0 {
		workers = 4
	}
	timeout := d(c.Timeout, time.Minute)
	rescue := d(c.RescueAfter, 2*time.Minute)
	if rescue <= timeout {
		rescue = timeout + time.Second
	}
	retention := d(c.Retention, 30*24*time.Hour)
	return &river.Config{
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:                     c.Workers,
		PeriodicJobs:                c.Periodic,
		JobTimeout:                  timeout,
		RescueStuckJobsAfter:        rescue,
		CompletedJobRetentionPeriod: retention,
		DiscardedJobRetentionPeriod: retention,
		CancelledJobRetentionPeriod: retention,
		FetchCooldown:               d(c.FetchCooldown, 5*time.Millisecond),
		FetchPollInterval:           max(d(c.PollInterval, 250*time.Millisecond), d(c.FetchCooldown, 5*time.Millisecond)),
		Logger:                      slog.New(zerolog.NewSlogHandler(c.Log.With().Str("component", "jobs").Logger().Level(zerolog.WarnLevel))),
	}
}

func openSQLite(ctx context.Context, path string, rc *river.Config) (*Engine, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("jobs database %s: %w", path, err)
		}
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open jobs database %s: %w", path, err)
	}
	// SQLite runs one writer at a time; River's own advice is one connection.
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	if err := migrate(ctx, driver); err != nil {
		return nil, errors.Join(fmt.Errorf("jobs database %s: %w", path, err), db.Close())
	}
	if err := requeueInterrupted(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("jobs database %s: %w", path, err), db.Close())
	}
	cl, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("jobs: %w", err), db.Close())
	}
	return &Engine{client: cl, kind: "sqlite", ping: db.PingContext, close: db.Close}, nil
}

// requeueInterrupted makes the jobs a killed process left "running"
// available again at once. A SQLite jobs database belongs to one hub
// process (the embedded default is one instance), so when it opens nothing
// can still be running them; River's rescuer would otherwise wait
// RescueAfter. Their attempt count stays, so a job that kills its process
// every time still runs out of attempts.
func requeueInterrupted(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
		return fmt.Errorf("requeue interrupted jobs: %w", err)
	}
	return nil
}

func openPostgres(ctx context.Context, url string, rc *river.Config) (*Engine, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open jobs database: %w", err)
	}
	driver := riverpgxv5.New(pool)
	if err := migrate(ctx, driver); err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs database: %w", err)
	}
	cl, err := river.NewClient(driver, rc)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Engine{client: cl, kind: "postgres", ping: pool.Ping, close: func() error { pool.Close(); return nil }}, nil
}

// migrate brings River's tables up to date. Concurrent hubs on one Postgres
// are safe: River's migrator takes a lock.
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Kind is "sqlite" or "postgres".
func (e *Engine) Kind() string { return e.kind }

// Start runs the engine's workers (and, on the leader, periodic jobs) until
// Stop. Jobs left running by a killed process are rescued after RescueAfter.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for those running (bounded by ctx;
// what ctx cuts short runs again after the next start).
func (e *Engine) Stop(ctx context.Context) error {
	if err := e.client.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}

// Close releases the database. Call it after Stop.
func (e *Engine) Close() error { return e.close() }

// Ping checks the jobs database ("jobs" in /readyz).
func (e *Engine) Ping(ctx context.Context) error { return e.ping(ctx) }

// Insert enqueues a job durably: when it returns without error the job is
// stored and will run, even if this process dies now. With unique options
// an equal job already stored is returned instead (UniqueSkippedAsDuplicate).
func (e *Engine) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := e.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert job %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Job returns one job by ID, or ErrNotFound.
func (e *Engine) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := e.client.JobGet(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", id, err)
	}
	return row, nil
}

// Jobs lists the newest jobs of the given kinds, newest first, at most
// limit of them.
func (e *Engine) Jobs(ctx context.Context, limit int, kinds ...string) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if len(kinds) > 0 {
		p = p.Kinds(kinds...)
	}
	res, err := e.client.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return res.Jobs, nil
}

// Subscribe delivers this instance's job events of the given kinds (a job
// completed, failed, …) until cancel is called. Events of jobs that ran
// on another instance of a fleet are not delivered here.
func (e *Engine) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return e.client.Subscribe(kinds...)
}
