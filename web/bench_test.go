package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/senapred-valparaiso/vigia/auth"
	authmem "github.com/senapred-valparaiso/vigia/auth/memory"
	authsqlite "github.com/senapred-valparaiso/vigia/auth/sqlite"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// BenchmarkListAlerts serves GET /api/alerts through the whole Fiber
// handler chain (request context, cookie authentication, the read model,
// JSON), without the network: what the hub spends per read besides the
// socket. session=sqlite is what the hub runs (sessions.db, like
// production); session=memory shows what the session store costs.
//
// The plain cases are the steady state: the session answered from the auth
// Service's cache and the list's bytes encoded once per read-model change.
// uncached turns both caches off (the session read from its store on every
// request, the list encoded every time, as a standby instance does), which
// is what every read cost before the caches; not-modified is a client
// revalidating with If-None-Match. Run with `make bench` or
//
//	go test -run '^$' -bench ListAlerts -benchmem ./web
func BenchmarkListAlerts(b *testing.B) {
	serve := func(b *testing.B, s *Server, cookie string, header ...string) {
		h := s.App().Handler()
		ctx := benchRequest(cookie, header...)
		want := fiber.StatusOK
		if len(header) > 0 {
			want = fiber.StatusNotModified
		}
		b.ReportAllocs()
		for b.Loop() {
			ctx.Response.Reset()
			h(ctx)
			if ctx.Response.StatusCode() != want {
				b.Fatalf("got %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		}
	}
	for _, alerts := range []int{20, 200} {
		for _, sessions := range []string{"sqlite", "memory"} {
			name := fmt.Sprintf("alerts=%d/session=%s", alerts, sessions)
			b.Run(name, func(b *testing.B) {
				s, cookie := newBenchServer(b, benchOptions{sessions: sessions, alerts: alerts})
				serve(b, s, cookie)
			})
			b.Run(name+"/uncached", func(b *testing.B) {
				s, cookie := newBenchServer(b, benchOptions{sessions: sessions, alerts: alerts, uncached: true})
				serve(b, s, cookie)
			})
		}
	}
	b.Run("alerts=20/session=sqlite/not-modified", func(b *testing.B) {
		s, cookie := newBenchServer(b, benchOptions{sessions: "sqlite", alerts: 20})
		ctx := benchRequest(cookie)
		s.App().Handler()(ctx)
		serve(b, s, cookie, fiber.HeaderIfNoneMatch, string(ctx.Response.Header.Peek(fiber.HeaderETag)))
	})
	// Both cores at once, as under load: contention on the caches, the
	// read model's lock and the sessions database shows here.
	for _, uncached := range []bool{false, true} {
		name := "alerts=20/session=sqlite/parallel"
		if uncached {
			name = "alerts=20/session=sqlite/uncached/parallel"
		}
		b.Run(name, func(b *testing.B) {
			s, cookie := newBenchServer(b, benchOptions{sessions: "sqlite", alerts: 20, uncached: uncached})
			h := s.App().Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := benchRequest(cookie)
				for pb.Next() {
					ctx.Response.Reset()
					h(ctx)
					if ctx.Response.StatusCode() != 200 {
						b.Errorf("got %d", ctx.Response.StatusCode())
						return
					}
				}
			})
		})
	}
}

// BenchmarkAlertListJSON is the encoding part of a read on its own: what
// the cache of the encoded list (per read-model position) saves, and what
// each change of the read model costs once.
func BenchmarkAlertListJSON(b *testing.B) {
	m := memory.New()
	ctx := context.Background()
	evs := benchAlertEvents(b, 20)
	if _, err := m.Apply(ctx, evs); err != nil {
		b.Fatal(err)
	}
	alerts, _ := m.Alerts(ctx, "vigente")
	b.ReportAllocs()
	for b.Loop() {
		raw, err := json.Marshal(alertList{Alerts: alerts, Position: "123"})
		if err != nil || len(raw) == 0 {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(raw)))
	}
}

// benchRequest is a GET /api/alerts as a browser with a session sends it,
// with the header name/value pairs given.
func benchRequest(cookie string, header ...string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.SetRequestURI("http://127.0.0.1:8080/api/alerts")
	req.Header.Set("Cookie", SessionCookie+"="+cookie)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, nil)
	return ctx
}

// benchAlertEvents are n recorded alert declarations with varied scopes.
func benchAlertEvents(tb testing.TB, n int) []eventstore.Event {
	tb.Helper()
	at := time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)
	provs := domain.Provincias()
	out := make([]eventstore.Event, n)
	for i := range out {
		p := provs[i%len(provs)]
		e := &domain.AlertDeclared{AlertID: fmt.Sprintf("0193a1e2-7c1d-7000-8000-%012d", i), Hazard: domain.Hazards()[i%len(domain.Hazards())],
			Level: domain.Levels[i%len(domain.Levels)], Provincias: []string{p.Code}, Comunas: []string{p.Comunas[0].Code},
			Title: fmt.Sprintf("Alerta %d", i), Description: "Alerta de prueba de carga: el tiempo pronosticado para la zona indicada exige preparación.", At: at}
		typ, schema, data, err := domain.Encode(e)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = eventstore.Event{Stream: domain.AlertStream(e.AlertID), Type: typ, Schema: schema, Data: data,
			Position: eventstore.Seq(uint64(i + 1)), Actor: eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}, RecordedAt: at}
	}
	return out
}

// benchOptions shape newBenchServer's hub.
type benchOptions struct {
	// sessions is "sqlite" (sessions.db) or "memory".
	sessions string
	// alerts is how many alerts are in force.
	alerts int
	// uncached turns off the auth Service's cache and makes the projector
	// a standby's, so that no read is served from a cache.
	uncached bool
}

// newBenchServer is a Server over a real SQLite event store and a running
// projector, with o.alerts alerts in force and an operator logged in; it
// returns the session cookie's value.
func newBenchServer(b *testing.B, o benchOptions) (*Server, string) {
	sessions, alerts := o.sessions, o.alerts
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	log := zerolog.Nop()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	model := memory.New()
	proj := projections.NewProjector(store, model, nil, log)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = proj.Run(runCtx) }()
	var closeSessions func() error
	var sessionStore auth.SessionStore
	var tokenStore auth.TokenStore
	switch sessions {
	case "sqlite":
		db, err := authsqlite.Open(ctx, filepath.Join(dir, "sessions.db"), time.Now)
		if err != nil {
			b.Fatal(err)
		}
		sessionStore, tokenStore, closeSessions = db.Sessions(), db.Tokens(), db.Close
	default:
		sessionStore, tokenStore, closeSessions = authmem.NewSessionStore(time.Now), authmem.NewTokenStore(time.Now), func() error { return nil }
	}
	b.Cleanup(func() { cancel(); wg.Wait(); _ = closeSessions(); _ = store.Close() })

	cmds := command.New(store)
	hash, err := auth.TestParams.Hash(benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	system := command.Meta{Actor: eventstore.Actor{ID: "system:bench", Username: "bench", Role: "system"}}
	last, err := cmds.CreateUser(ctx, system, "ana", "Ana", "operator", hash)
	if err != nil {
		b.Fatal(err)
	}
	provs := domain.Provincias()
	for i := range alerts {
		p := provs[i%len(provs)]
		id := fmt.Sprintf("0193a1e2-7c1d-7000-8000-%012d", i)
		last, err = cmds.Execute(ctx, domain.AlertStream(id), system, nil, command.Command(domain.DeclareAlert{
			ID: id, Hazard: domain.Hazards()[i%len(domain.Hazards())], Level: domain.Levels[i%len(domain.Levels)],
			Scope: domain.Scope{Provincias: []string{p.Code}, Comunas: []string{p.Comunas[0].Code}},
			Title: fmt.Sprintf("Alerta %d", i), Description: "Alerta de prueba de carga: el tiempo pronosticado para la zona indicada exige preparación.",
			At: time.Now().UTC(),
		}))
		if err != nil {
			b.Fatal(err)
		}
	}
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := proj.WaitFor(wait, last.Position); err != nil {
		b.Fatal(err)
	}
	cacheTTL := time.Duration(0) // the default
	var p projector = proj
	if o.uncached {
		cacheTTL, p = -1, benchStandby{proj}
	}
	svc, err := auth.NewService(auth.ServiceConfig{
		Accounts: NewAccounts(model), Sessions: sessionStore, Tokens: tokenStore,
		Limiter: authmem.NewLimiter(auth.DefaultLimitPolicy, time.Now), Params: auth.TestParams, Now: time.Now,
		CacheTTL: cacheTTL,
	})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := svc.Login(ctx, "ana", benchPassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{Log: log, Commands: cmds, Reads: model, Projector: p, Auth: svc, PasswordParams: auth.TestParams})
	return s, sess.ID
}

// benchStandby is the projector of an instance that does not apply events
// itself: the alert list is not cached there.
type benchStandby struct{ *projections.Projector }

func (benchStandby) Leading() bool { return false }

const benchPassword = "una clave larga para medir"
