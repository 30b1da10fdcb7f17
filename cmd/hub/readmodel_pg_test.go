package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

// rmStartHub runs a hub in-process on a loopback port, configured by
// configure, with its sessions (and embedded store) in dataDir. It is
// closed when the test ends, unless rmClose closed it first.
func rmStartHub(t *testing.T, dataDir string, configure func(*Config)) *Main {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = dataDir
	m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
	m.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	m.PasswordParams = auth.TestParams
	configure(&m.Config)
	if err := m.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rmClose(m) })
	return m
}

// rmClosed remembers the hubs rmClose closed: Main.Close runs once.
var rmClosed sync.Map

// rmClose closes a hub once.
func rmClose(m *Main) error {
	if _, done := rmClosed.LoadOrStore(m, true); done {
		return nil
	}
	return m.Close()
}

// rmEventually polls cond until it holds or the bound passes.
func rmEventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rmDates are the days the tests write to: a log stream per writer, so
// that writers do not all contend for one stream.
var rmDates = func() []string {
	var out []string
	for d := 1; d <= 20; d++ {
		out = append(out, fmt.Sprintf("2026-01-%02d", d))
	}
	return out
}()

// rmSameAsFold fails unless the hub's read model answers what the fold of
// its log answers (a memory read model caught up from the same store),
// audit records included, and
// holds one audit row per event (for a Postgres read model at dsn).
func rmSameAsFold(t *testing.T, m *Main, dsn string) {
	t.Helper()
	ctx := context.Background()
	fold := memory.New()
	if _, err := projections.NewProjector(m.stores.events, fold, nil, zerolog.Nop()).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	at, _ := fold.Checkpoint(ctx)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.projector.WaitFor(wctx, at); err != nil {
		t.Fatalf("the hub's projector is at %s, the log at %s: %v", m.projector.Position(), at, err)
	}
	type reader interface {
		Alerts(context.Context, string) ([]projections.AlertView, error)
		Shifts(context.Context, string) ([]projections.ShiftView, error)
		Log(context.Context, string) ([]projections.LogEntryView, error)
		Users(context.Context) ([]projections.UserView, error)
		Audit(context.Context, projections.AuditQuery) ([]projections.AuditRecord, error)
	}
	dump := func(r reader) string {
		var b strings.Builder
		put := func(v any, err error) {
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(v)
			b.Write(raw)
			b.WriteByte('\n')
		}
		put(r.Alerts(ctx, "all"))
		put(r.Users(ctx))
		for _, d := range rmDates {
			put(r.Shifts(ctx, d))
			put(r.Log(ctx, d))
		}
		// Every audit record, summary and diff included.
		for q := (projections.AuditQuery{}); ; {
			page, err := r.Audit(ctx, q)
			put(page, err)
			if len(page) == 0 {
				break
			}
			q.After = page[len(page)-1].Position
		}
		return b.String()
	}
	if got, want := dump(m.model), dump(fold); got != want {
		t.Fatalf("the read model differs from the fold of the log:\n got %.2000s\nwant %.2000s", got, want)
	}
	if dsn == "" {
		return
	}
	events := 0
	for from := (eventstore.Position{}); ; {
		evs, err := m.stores.events.ReadAll(ctx, from, projections.EventFilter(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		events += len(evs)
		from = evs[len(evs)-1].Position
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (commit_position, prepare_position)) FROM rm_audit`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != events || distinct != events {
		t.Fatalf("%d audit rows (%d distinct positions) for %d events: want each event applied exactly once", rows, distinct, events)
	}
}

// rmProxy stands between the hub and Postgres on loopback, so a test can
// make the read model's database unreachable (every connection cut, new
// ones refused) without touching the server other tests share.
type rmProxy struct {
	dsn    string
	target string
	ln     net.Listener

	mu    sync.Mutex
	up    bool
	conns map[net.Conn]struct{}
}

func newRMProxy(t *testing.T, dsn string) *rmProxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy: want a postgres:// URL, got %q (%v)", dsn, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rmProxy{target: u.Host, ln: ln, up: true, conns: map[net.Conn]struct{}{}}
	u.Host = ln.Addr().String()
	p.dsn = u.String()
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.setUp(false) })
	return p
}

func (p *rmProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		if !up {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *rmProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// setUp accepts connections again, or cuts them all and refuses new ones.
func (p *rmProxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// TestReadModelOutage: the hub keeps its events in the embedded store and
// its read model in Postgres. When Postgres goes away, reads answer 503
// with a problem body, /readyz says which dependency is down, writes still
// succeed; when it is back, the projector catches up on its own and the
// write made meanwhile becomes visible. The hub never restarts.
func TestReadModelOutage(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	px := newRMProxy(t, dsn)
	m := rmStartHub(t, t.TempDir(), func(c *Config) { c.ReadModel = px.dsn })
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"viento","level":"amarilla","title":"Viento","region":true}`, nil); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}

	px.setUp(false)
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	code, h, err := c.call("GET", "/api/alerts", nil, "", &p)
	if err != nil || code != 503 || p.Status != 503 || p.Type != "/problems/unavailable" || p.Title == "" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || h.Get("Retry-After") == "" {
		t.Fatalf("alerts while the read model is down: %d %v %+v %v", code, err, p, h)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if code, _, err := c.call("GET", "/readyz", nil, "", &ready); err != nil || code != 503 || ready.Checks["readmodel"] == "ok" || ready.Checks["eventstore"] != "ok" {
		t.Fatalf("readyz while the read model is down: %d %v %+v", code, err, ready)
	}
	var entry struct {
		ID string `json:"id"`
	}
	if code, _, err := c.call("POST", "/api/log", nil, `{"text":"Escrita durante la caída","date":"2026-01-15"}`, &entry); err != nil || code != 201 {
		t.Fatalf("a write to the embedded store while the read model is down: %d %v", code, err)
	}

	px.setUp(true)
	rmEventually(t, 30*time.Second, "the write made during the outage is read back", func() bool {
		var list struct {
			Entries []struct {
				ID string `json:"id"`
			} `json:"entries"`
		}
		code, _, err := c.call("GET", "/api/log?date=2026-01-15", nil, "", &list)
		return err == nil && code == 200 && len(list.Entries) == 1 && list.Entries[0].ID == entry.ID
	})
	rmEventually(t, 30*time.Second, "ready again", func() bool {
		code, _, err := c.call("GET", "/readyz", nil, "", nil)
		return err == nil && code == 200
	})
	rmSameAsFold(t, m, dsn)
}

// TestHubRecoversFromTerminatedBackends: events and read model in one
// Postgres schema; while clients write, every connection the hub has to
// the server is terminated, again and again (as a restart does). Writes
// caught in it fail with 503; the hub recovers without a restart of its
// own, every acknowledged write is read back, and the read model is the
// fold of the log, every event applied once.
func TestHubRecoversFromTerminatedBackends(t *testing.T) {
	t.Parallel()
	base := testsvc.Postgres(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	app := fmt.Sprintf("vigia-test-%d", time.Now().UnixNano())
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	dsn := u.String()
	m := rmStartHub(t, t.TempDir(), func(c *Config) { c.EventStore, c.ReadModel = dsn, dsn })
	c := newClient(t, m.Addr(), testAdmin, testPassword)

	killer, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(context.Background())
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acked    []string
		failures atomic.Int32
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var out struct {
					ID string `json:"id"`
				}
				code, _, err := c.call("POST", "/api/log", nil, fmt.Sprintf(`{"text":"novedad %d-%d","date":"%s"}`, w, i, rmDates[w]), &out)
				if err == nil && code == 201 {
					mu.Lock()
					acked = append(acked, out.ID)
					mu.Unlock()
				} else {
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	terminated := 0
	for round := 0; round < 5; round++ {
		time.Sleep(300 * time.Millisecond)
		var n int
		if err := killer.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		terminated += n
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if terminated == 0 || len(acked) == 0 {
		t.Fatalf("terminated %d connections, %d writes acknowledged: the test did not test", terminated, len(acked))
	}
	rmEventually(t, 30*time.Second, "ready again", func() bool {
		code, _, err := c.call("GET", "/readyz", nil, "", nil)
		return err == nil && code == 200
	})
	seen := map[string]bool{}
	rmEventually(t, 30*time.Second, "every acknowledged write read back", func() bool {
		for _, d := range rmDates {
			var list struct {
				Entries []struct {
					ID string `json:"id"`
				} `json:"entries"`
			}
			if code, _, err := c.call("GET", "/api/log?date="+d, nil, "", &list); err != nil || code != 200 {
				return false
			}
			for _, e := range list.Entries {
				seen[e.ID] = true
			}
		}
		for _, id := range acked {
			if !seen[id] {
				return false
			}
		}
		return true
	})
	rmSameAsFold(t, m, base)
	t.Logf("%d connections terminated, %d writes acknowledged, %d refused meanwhile", terminated, len(acked), failures.Load())
}

// TestTwoHubsShareAReadModel: two hubs on one Postgres event store and
// read model. One projects, the other stands by and still reads its own
// writes at once; when the first stops, the second takes over.
func TestTwoHubsShareAReadModel(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	both := func(c *Config) { c.EventStore, c.ReadModel = dsn, dsn }
	a := rmStartHub(t, t.TempDir(), both)
	b := rmStartHub(t, t.TempDir(), both)
	rmEventually(t, 10*time.Second, "a leads, b stands by", func() bool { return a.projector.Leading() && !b.projector.Leading() && b.projector.Live() })
	cb := newClient(t, b.Addr(), testAdmin, testPassword)
	write := func(c *client, text string) string {
		t.Helper()
		var out struct {
			ID string `json:"id"`
		}
		if code, _, err := c.call("POST", "/api/log", nil, `{"text":"`+text+`","date":"2026-01-15"}`, &out); err != nil || code != 201 {
			t.Fatalf("write %q: %d %v", text, code, err)
		}
		return out.ID
	}
	readBack := func(c *client, id string) {
		t.Helper()
		var e struct {
			ID string `json:"id"`
		}
		if code, _, err := c.call("GET", "/api/log/"+id, nil, "", &e); err != nil || code != 200 || e.ID != id {
			t.Fatalf("read back %s: %d %v", id, code, err)
		}
	}
	// Read-your-writes on the instance standing by: its WaitFor follows the
	// checkpoint the other one commits.
	readBack(cb, write(cb, "escrita en la réplica"))

	if err := rmClose(a); err != nil {
		t.Fatal(err)
	}
	rmEventually(t, 10*time.Second, "b takes over", b.projector.Leading)
	readBack(cb, write(cb, "escrita tras el relevo"))
	rmSameAsFold(t, b, dsn)
}

// TestProjectionsRebuildWhileServing: `hub projections rebuild` swaps a
// freshly replayed read model in while a hub serves 20 writing clients;
// afterwards the read model is the fold of the log, every event applied
// once, and every acknowledged write is there.
func TestProjectionsRebuildWhileServing(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	dir := t.TempDir()
	m := rmStartHub(t, dir, func(c *Config) { c.ReadModel = dsn })
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	for i := 0; i < 60; i++ {
		body := fmt.Sprintf(`{"hazard":"marejadas","level":"amarilla","title":"Marejadas %d","provincias":["051"]}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"text":"novedad previa %d","date":"%s"}`, i, rmDates[i%2])
		}
		path := map[bool]string{true: "/api/log", false: "/api/alerts"}[i%2 == 1]
		if code, _, err := c.call("POST", path, nil, body, nil); err != nil || code != 201 {
			t.Fatalf("seed: %d %v", code, err)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var wrote atomic.Int32
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, _, err := c.call("POST", "/api/log", nil, fmt.Sprintf(`{"text":"novedad %d-%d","date":"%s"}`, w, i, rmDates[w]), nil)
				if err != nil || code != 201 {
					t.Errorf("write during the rebuild: %d %v", code, err)
					return
				}
				wrote.Add(1)
			}
		}(w)
	}
	rmEventually(t, 30*time.Second, "writers under way", func() bool { return wrote.Load() >= 20 })
	getenv := func(k string) string {
		return map[string]string{"HUB_DATA_DIR": dir, "HUB_READMODEL": dsn, "HUB_LOG_FORMAT": "json"}[k]
	}
	var out, errs strings.Builder
	code := run(context.Background(), []string{"projections", "rebuild", "--batch", "16", "all"}, getenv, strings.NewReader(""), &out, &errs)
	during := wrote.Load()
	rmEventually(t, 30*time.Second, "writes after the swap", func() bool { return wrote.Load() >= during+20 })
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out.String(), "rebuilt all:") {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	rmSameAsFold(t, m, dsn)
	t.Logf("%s(%d writes before the rebuild ended, %d in all)", out.String(), during, wrote.Load())
}

// TestMigrateCommand: `hub migrate` applies the Postgres event store's and
// read model's migrations and exits; a second run finds nothing to do; an
// unknown read model is refused.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	getenv := func(k string) string {
		return map[string]string{"HUB_DATA_DIR": t.TempDir(), "HUB_EVENTSTORE": dsn, "HUB_READMODEL": dsn}[k]
	}
	for i := 0; i < 2; i++ {
		var out, errs strings.Builder
		if code := run(context.Background(), []string{"migrate"}, getenv, nil, &out, &errs); code != 0 ||
			!strings.Contains(out.String(), "event store (postgres): schema up to date") || !strings.Contains(out.String(), "read model (postgres): schema up to date") {
			t.Fatalf("migrate: exit %d\n%s%s", code, out.String(), errs.String())
		}
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var es, rm int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM es_schema_migrations), (SELECT count(*) FROM rm_schema_migrations)`).Scan(&es, &rm); err != nil || es == 0 || rm == 0 {
		t.Fatalf("migrations recorded: event store %d, read model %d (%v)", es, rm, err)
	}
	var out strings.Builder
	if code := run(context.Background(), []string{"serve", "--readmodel", "mysql://x"}, func(string) string { return "" }, nil, &out, &out); code != 1 || !strings.Contains(out.String(), "readmodel") {
		t.Fatalf("an unknown read model: exit %d %q", code, out.String())
	}
}

// TestRebuildEstimate: the progress bar's estimate comes from positions.
func TestRebuildEstimate(t *testing.T) {
	r := rmpostgresProgress(500, 1000)
	frac, eta := rebuildEstimate(r, eventstore.Seq(1), 10*time.Second)
	if frac != 0.5 || eta < 9*time.Second || eta > 11*time.Second {
		t.Fatalf("got %v %v, want half way with about 10s left", frac, eta)
	}
	if frac, _ := rebuildEstimate(rmpostgresProgress(500, 0), eventstore.Seq(1), time.Second); frac != -1 {
		t.Fatalf("got %v, want -1 (unknown) without a target", frac)
	}
}

func rmpostgresProgress(pos, target uint64) rmpostgres.RebuildProgress {
	r := rmpostgres.RebuildProgress{Events: int(pos), Position: eventstore.Seq(pos)}
	if target > 0 {
		r.Target = eventstore.Seq(target)
	}
	return r
}

// TestAuditSameFromBothReadModels: the same scripted edits by three users
// give byte for byte the same /api/audit answers (summaries and diffs
// included, every page, filtered, and the CSV export) from a hub with a
// Postgres read model and from a hub with the in-memory one, started on
// the same log.
func TestAuditSameFromBothReadModels(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	dir := t.TempDir()
	pg := rmStartHub(t, dir, func(c *Config) { c.ReadModel = dsn })
	admin := newClient(t, pg.Addr(), testAdmin, testPassword)
	for _, u := range [][2]string{{"beto", "operator"}, {"sofia", "supervisor"}} {
		body := fmt.Sprintf(`{"username":%q,"display_name":%q,"role":%q,"password":%q}`, u[0], strings.ToUpper(u[0][:1])+u[0][1:], u[1], testPassword)
		if code, _, err := admin.call("POST", "/api/users", nil, body, nil); err != nil || code != 201 {
			t.Fatalf("create %s: %d %v", u[0], code, err)
		}
	}
	beto, sofia := newClient(t, pg.Addr(), "beto", testPassword), newClient(t, pg.Addr(), "sofia", testPassword)
	ifMatch := func(v int) map[string]string { return map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)} }
	var alert, entry struct {
		ID string `json:"id"`
	}
	steps := []struct {
		who          *client
		method, path string
		version      int // If-Match, when >= 0
		body         string
		out          any
		want         int
	}{
		{admin, "POST", "/api/alerts", -1, `{"hazard":"incendio_forestal","level":"amarilla","title":"Incendio forestal en Quilpué","provincias":["058"]}`, &alert, 201},
		{beto, "PATCH", "/api/alerts/{alert}", 0, `{"level":"roja","reason":"avance del fuego"}`, nil, 200},
		{sofia, "PATCH", "/api/alerts/{alert}", 1, `{"title":"Incendio en Quilpué y Villa Alemana"}`, nil, 200},
		{beto, "PUT", "/api/shifts/2026-01-15/dia", 0, `{"start":"08:00","end":"20:00","lead":"Beto"}`, nil, 201},
		{sofia, "PUT", "/api/shifts/2026-01-15/dia", 1, `{"start":"08:00","end":"20:00","lead":"Sofía","operators":["Beto"]}`, nil, 200},
		{admin, "POST", "/api/log", -1, `{"text":"Se activa el COE comunal","date":"2026-01-15","category":"coordinacion"}`, &entry, 201},
		{sofia, "PATCH", "/api/log/{entry}", 1, `{"text":"Se activa el COE regional","reason":"precisión"}`, nil, 200},
		{beto, "DELETE", "/api/shifts/2026-01-15/dia", 2, ``, nil, 200},
		{sofia, "POST", "/api/alerts/{alert}/cancel", 2, `{"reason":"controlado"}`, nil, 200},
	}
	for i, s := range steps {
		path := strings.NewReplacer("{alert}", alert.ID, "{entry}", entry.ID).Replace(s.path)
		var h map[string]string
		if s.version >= 0 {
			h = ifMatch(s.version)
		}
		if code, _, err := s.who.call(s.method, path, h, s.body, s.out); err != nil || code != s.want {
			t.Fatalf("step %d, %s %s: %d %v, want %d", i, s.method, path, code, err, s.want)
		}
	}

	queries := []string{"limit=1000", "actor=beto&limit=2", "stream=alert-&order=oldest&limit=2", "type=shift.assigned", "stream=log-", "format=csv"}
	answers := func(c *client) map[string]string {
		out := map[string]string{}
		for _, q := range queries {
			for page, next := 0, ""; ; page++ {
				path := "/api/audit?" + q
				if next != "" {
					path += "&cursor=" + next
				}
				code, body := rmRaw(t, c, path)
				if code != 200 {
					t.Fatalf("%s: %d %s", path, code, body)
				}
				out[fmt.Sprintf("%s #%d", q, page)] = body
				if strings.HasPrefix(q, "format=") {
					break
				}
				var p struct {
					Next string `json:"next"`
				}
				if err := json.Unmarshal([]byte(body), &p); err != nil {
					t.Fatal(err)
				}
				if next = p.Next; next == "" {
					break
				}
			}
		}
		return out
	}
	// A supervisor's audit leaves out user records; an admin's has them.
	// Both must be the same from either read model.
	both := func(addr string) map[string]string {
		out := answers(newClient(t, addr, "sofia", testPassword))
		for k, v := range answers(newClient(t, addr, testAdmin, testPassword)) {
			out["admin "+k] = v
		}
		return out
	}
	fromPG := both(pg.Addr())
	// What the Postgres model said is what the script did.
	var all struct {
		Entries []projections.AuditRecord `json:"entries"`
	}
	if err := json.Unmarshal([]byte(fromPG["admin limit=1000 #0"]), &all); err != nil {
		t.Fatal(err)
	}
	var supervisor struct {
		Entries []projections.AuditRecord `json:"entries"`
	}
	if err := json.Unmarshal([]byte(fromPG["limit=1000 #0"]), &supervisor); err != nil {
		t.Fatal(err)
	}
	for _, r := range supervisor.Entries {
		if strings.HasPrefix(r.Stream, "user-") {
			t.Fatalf("a supervisor's audit shows a user record: %+v", r)
		}
	}
	var level *projections.AuditRecord
	for i, r := range all.Entries {
		if r.Type == "alert.level_changed" {
			level = &all.Entries[i]
		}
	}
	if level == nil || level.Actor.Username != "beto" || level.Summary != "beto cambió el nivel de la alerta «Incendio forestal en Quilpué» de amarilla a roja" ||
		fmt.Sprint(level.Diff["level"]) != "{amarilla roja}" || len(level.Diff) != 1 {
		t.Fatalf("the level change's record: %+v", level)
	}
	if len(all.Entries) < len(steps)+3 { // the script's events, the admin and two users
		t.Fatalf("got %d records, want at least %d", len(all.Entries), len(steps)+3)
	}
	if err := rmClose(pg); err != nil {
		t.Fatal(err)
	}

	mem := rmStartHub(t, dir, func(c *Config) {})
	fromMemory := both(mem.Addr())
	if len(fromMemory) != len(fromPG) {
		t.Fatalf("got %d answers from memory, %d from Postgres", len(fromMemory), len(fromPG))
	}
	for k, want := range fromMemory {
		if got := fromPG[k]; got != want {
			t.Errorf("%s:\nPostgres %s\n  memory %s", k, got, want)
		}
	}
}

// rmRaw GETs path and returns the status and the body as it came.
func rmRaw(t *testing.T, c *client, path string) (int, string) {
	t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}
