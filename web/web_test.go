package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	authmem "github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// testHub is a Server over a real SQLite store and a running projector.
type testHub struct {
	*Server
	store   eventstore.Store
	model   *memory.ReadModel
	now     time.Time
	cmds    *command.Handler
	proj    *projections.Projector
	cookies map[string]string
	// as is the user do() acts as; "" sends no credentials.
	as string
}

func newTestHub(t *testing.T) *testHub {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	clock := time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	model := memory.New()
	proj := projections.NewProjector(store, model, nil, log)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = proj.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); store.Close() })
	loc, _ := time.LoadLocation("America/Santiago")
	svc, err := auth.NewService(auth.ServiceConfig{
		Accounts: NewAccounts(model), Sessions: authmem.NewSessionStore(now), Tokens: authmem.NewTokenStore(now),
		Limiter: authmem.NewLimiter(auth.DefaultLimitPolicy, now), SoftLimiter: authmem.NewLimiter(auth.SoftLimitPolicy, now),
		Params: auth.TestParams, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	cmds := command.New(store, command.WithClock(now))
	s := New(Config{
		Log: log, Commands: cmds, Reads: model, Projector: proj, Auth: svc, PasswordParams: auth.TestParams,
		Location: loc, BodyLimit: 64 << 10, Streams: store,
		Checks: []Check{{Name: "eventstore", Check: store.Ping}},
	})
	h := &testHub{Server: s, store: store, model: model, now: clock, cmds: cmds, proj: proj, cookies: map[string]string{}}
	h.as = "ana"
	h.addUser(t, "admin", "admin")
	h.addUser(t, "ana", "operator")
	return h
}

const testPassword = "una clave larga"

// addUser creates a user and logs them in; do() then acts as h.as.
func (h *testHub) addUser(t *testing.T, username, role string) {
	t.Helper()
	hash, err := auth.TestParams.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.cmds.CreateUser(context.Background(), command.Meta{Actor: eventstore.Actor{ID: "system:test", Username: "test", Role: "system"}}, username, "", role, hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.proj.WaitFor(context.Background(), res.Position); err != nil {
		t.Fatal(err)
	}
	if role == "display" {
		return
	}
	h.cookies[username] = h.login(t, username, testPassword)
}

// login posts credentials and returns the session cookie.
func (h *testHub) login(t *testing.T, username, password string) string {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(`{"username":"`+username+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.App().Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("session cookie must be HttpOnly and SameSite=Strict: %+v", c)
			}
			return c.Value
		}
	}
	t.Fatalf("login %s: got %d and no session cookie", username, resp.StatusCode)
	return ""
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (h *testHub) do(t *testing.T, method, path string, headers map[string]string, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.as != "" && headers["Authorization"] == "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: h.cookies[h.as]})
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.App().Test(req, 5000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

const fireAlert = `{"hazard":"incendio_forestal","level":"amarilla","title":"Incendio en Quilpué","comunas":["05801","Villa Alemana"]}`

// declare creates an alert and returns its id.
func (h *testHub) declare(t *testing.T) string {
	t.Helper()
	r := h.do(t, "POST", "/api/alerts", nil, fireAlert)
	if r.status != 201 {
		t.Fatalf("declare: got %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

func TestAlertsAPI(t *testing.T) {
	h := newTestHub(t)
	id := h.declare(t)
	path := "/api/alerts/" + id

	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		body       string
		wantStatus int
		wantFields []string
		check      func(t *testing.T, r response)
	}{
		{name: "list in force", method: "GET", path: "/api/alerts", wantStatus: 200, check: func(t *testing.T, r response) {
			if n := len(r.body["alerts"].([]any)); n != 1 {
				t.Fatalf("got %d alerts, want 1", n)
			}
		}},
		{name: "list with a bad status", method: "GET", path: "/api/alerts?status=roja", wantStatus: 400, wantFields: []string{"status"}},
		{name: "get has the version as ETag", method: "GET", path: path, wantStatus: 200, check: func(t *testing.T, r response) {
			if r.header.Get("ETag") != `"0"` || r.body["updated_by"] != "ana" {
				t.Fatalf("got ETag %q body %v", r.header.Get("ETag"), r.body)
			}
			if got := r.body["comunas"].([]any); len(got) != 2 || got[1] != "05804" {
				t.Fatalf("got comunas %v, want names resolved to CUT codes", got)
			}
		}},
		{name: "get unchanged", method: "GET", path: path, headers: map[string]string{"If-None-Match": `"0"`}, wantStatus: 304},
		{name: "get a missing alert", method: "GET", path: "/api/alerts/4b1d1a5e-0000-4000-8000-000000000000", wantStatus: 404},
		{name: "get a malformed id", method: "GET", path: "/api/alerts/not-a-uuid", wantStatus: 404},
		{name: "declare with bad fields", method: "POST", path: "/api/alerts", body: `{"hazard":"meteorito","level":"naranja","title":"","comunas":["Santiago"]}`,
			wantStatus: 422, wantFields: []string{"hazard", "level", "title", "comunas"}},
		{name: "declare with a wrong type", method: "POST", path: "/api/alerts", body: `{"hazard":"viento","level":"roja","title":"x","region":"yes"}`, wantStatus: 400, wantFields: []string{"region"}},
		{name: "declare with an unknown field", method: "POST", path: "/api/alerts", body: `{"hazard":"viento","level":"roja","title":"x","region":true,"color":"red"}`, wantStatus: 400, wantFields: []string{"color"}},
		{name: "declare with broken JSON", method: "POST", path: "/api/alerts", body: `{"hazard":`, wantStatus: 400},
		{name: "declare with an empty body", method: "POST", path: "/api/alerts", wantStatus: 400},
		{name: "patch without If-Match", method: "PATCH", path: path, body: `{"level":"roja"}`, wantStatus: 428},
		{name: "patch with a malformed If-Match", method: "PATCH", path: path, headers: map[string]string{"If-Match": "tres"}, body: `{"level":"roja"}`, wantStatus: 400},
		{name: "patch with bad fields", method: "PATCH", path: path, headers: map[string]string{"If-Match": `"0"`}, body: `{"level":"verde"}`, wantStatus: 422, wantFields: []string{"level"}},
		{name: "patch the current version", method: "PATCH", path: path, headers: map[string]string{"If-Match": `"0"`}, body: `{"level":"roja","reason":"avance del fuego"}`, wantStatus: 200,
			check: func(t *testing.T, r response) {
				if r.header.Get("ETag") != `"1"` || r.body["level"] != "roja" {
					t.Fatalf("got ETag %q body %v", r.header.Get("ETag"), r.body)
				}
			}},
		{name: "patch a stale version gets the current alert", method: "PATCH", path: path, headers: map[string]string{"If-Match": `"0"`}, body: `{"title":"otro"}`, wantStatus: 412,
			check: func(t *testing.T, r response) {
				cur := r.body["current"].(map[string]any)
				if cur["level"] != "roja" || cur["version"] != float64(1) || r.header.Get("ETag") != `"1"` {
					t.Fatalf("got %v", r.body)
				}
			}},
		{name: "patch a missing alert", method: "PATCH", path: "/api/alerts/4b1d1a5e-0000-4000-8000-000000000000", headers: map[string]string{"If-Match": `"0"`}, body: `{"level":"roja"}`, wantStatus: 404},
		{name: "cancel without If-Match", method: "POST", path: path + "/cancel", wantStatus: 428},
		{name: "cancel", method: "POST", path: path + "/cancel", headers: map[string]string{"If-Match": `"1"`}, body: `{"reason":"controlado"}`, wantStatus: 200,
			check: func(t *testing.T, r response) {
				if r.body["status"] != "cancelada" {
					t.Fatalf("got %v", r.body)
				}
			}},
		{name: "edit a cancelled alert breaks a rule", method: "PATCH", path: path, headers: map[string]string{"If-Match": `"2"`}, body: `{"title":"x"}`, wantStatus: 409,
			check: func(t *testing.T, r response) {
				if r.body["code"] != "alert_cancelled" {
					t.Fatalf("got %v", r.body)
				}
			}},
		{name: "cancelled alerts are listed apart", method: "GET", path: "/api/alerts?status=cancelada", wantStatus: 200, check: func(t *testing.T, r response) {
			if n := len(r.body["alerts"].([]any)); n != 1 {
				t.Fatalf("got %d, want 1", n)
			}
		}},
		{name: "unknown route", method: "GET", path: "/api/nothing", wantStatus: 404},
		{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, check: func(t *testing.T, r response) {
			if r.body["checks"].(map[string]any)["eventstore"] != "ok" {
				t.Fatalf("got %v", r.body)
			}
		}},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.path, tt.headers, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if r.status >= 400 {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("got Content-Type %q, want problem+json", ct)
				}
				if r.body["status"] != float64(r.status) || r.body["title"] == "" {
					t.Fatalf("got problem %v", r.body)
				}
			}
			for _, f := range tt.wantFields {
				fields, _ := r.body["fields"].(map[string]any)
				if fields[f] == nil {
					t.Fatalf("got fields %v, want a message for %q", fields, f)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestShiftsAPI(t *testing.T) {
	h := newTestHub(t)
	day := `{"start":"08:00","end":"20:00","lead":"Carolina Muñoz","operators":["Diego Rojas"]}`
	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		body       string
		wantStatus int
		wantETag   string
	}{
		{"assign without a precondition", "PUT", "/api/shifts/2026-01-15/dia", nil, day, 428, ""},
		{"assign a new slot", "PUT", "/api/shifts/2026-01-15/dia", map[string]string{"If-None-Match": "*"}, day, 201, `"1"`},
		{"assign over an assigned slot with If-None-Match", "PUT", "/api/shifts/2026-01-15/dia", map[string]string{"If-None-Match": "*"}, day, 412, `"1"`},
		{"replace with the right version", "PUT", "/api/shifts/2026-01-15/dia", map[string]string{"If-Match": `"1"`}, `{"start":"08:00","end":"21:00","lead":"Carolina Muñoz"}`, 200, `"2"`},
		{"replace with a stale version", "PUT", "/api/shifts/2026-01-15/dia", map[string]string{"If-Match": `"1"`}, day, 412, `"2"`},
		{"overlapping shift of the same person", "PUT", "/api/shifts/2026-01-15/enlace", map[string]string{"If-None-Match": "*"}, `{"start":"20:30","end":"23:00","operators":["carolina muñoz"]}`, 409, ""},
		{"bad times", "PUT", "/api/shifts/2026-01-15/noche", map[string]string{"If-None-Match": "*"}, `{"start":"25:00","end":"08:00","lead":"x"}`, 422, ""},
		{"bad date", "PUT", "/api/shifts/15-01-2026/noche", map[string]string{"If-None-Match": "*"}, day, 400, ""},
		{"bad slot", "PUT", "/api/shifts/2026-01-15/NOCHE!", map[string]string{"If-None-Match": "*"}, day, 400, ""},
		{"unassign with a stale version", "DELETE", "/api/shifts/2026-01-15/dia", map[string]string{"If-Match": `"1"`}, "", 412, `"2"`},
		{"unassign", "DELETE", "/api/shifts/2026-01-15/dia", map[string]string{"If-Match": `"2"`}, "", 200, `"3"`},
		{"unassign an empty slot", "DELETE", "/api/shifts/2026-01-15/dia", map[string]string{"If-Match": `"3"`}, "", 404, ""},
		{"list a bad date", "GET", "/api/shifts?date=ayer", nil, "", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.path, tt.headers, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if tt.wantETag != "" && r.header.Get("ETag") != tt.wantETag {
				t.Fatalf("got ETag %q, want %s", r.header.Get("ETag"), tt.wantETag)
			}
		})
	}
	r := h.do(t, "PUT", "/api/shifts/2026-01-15/noche", map[string]string{"If-None-Match": "*"}, `{"start":"20:00","end":"08:00","lead":"Felipe"}`)
	if r.status != 201 {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	r = h.do(t, "GET", "/api/shifts?date=2026-01-15", nil, "")
	shifts := r.body["shifts"].([]any)
	if len(shifts) != 1 || shifts[0].(map[string]any)["slot"] != "noche" || shifts[0].(map[string]any)["updated_by"] != "ana" {
		t.Fatalf("got %v", r.body)
	}
}

func TestLogAPI(t *testing.T) {
	h := newTestHub(t)
	r := h.do(t, "POST", "/api/log", nil, `{"text":"Se activa el COE comunal","comunas":["Quilpué"],"category":"coordinacion"}`)
	if r.status != 201 || r.header.Get("ETag") != `"1"` || r.body["by"] != "ana" || r.body["date"] != "2026-01-15" {
		t.Fatalf("add: got %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		body       string
		wantStatus int
	}{
		{"add with no text", "POST", "/api/log", nil, `{"text":"   "}`, 422},
		{"add with an unknown comuna", "POST", "/api/log", nil, `{"text":"x","comunas":["Mendoza"]}`, 422},
		{"add with a bad alert id", "POST", "/api/log", nil, `{"text":"x","alert_id":"abc"}`, 400},
		{"correct without If-Match", "PATCH", "/api/log/" + id, nil, `{"text":"y"}`, 428},
		{"correct", "PATCH", "/api/log/" + id, map[string]string{"If-Match": `"1"`}, `{"text":"Se activa el COE comunal de Quilpué","reason":"precisión"}`, 200},
		{"correct a stale version", "PATCH", "/api/log/" + id, map[string]string{"If-Match": `"1"`}, `{"text":"z"}`, 412},
		{"correct a missing entry", "PATCH", "/api/log/4b1d1a5e-0000-4000-8000-000000000000", map[string]string{"If-Match": `"1"`}, `{"text":"z"}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.path, tt.headers, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
		})
	}
	r = h.do(t, "GET", "/api/log?date=2026-01-15", nil, "")
	entries := r.body["entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1: %s", len(entries), r.raw)
	}
	e := entries[0].(map[string]any)
	if e["text"] != "Se activa el COE comunal de Quilpué" || e["corrected"] != true || e["version"] != float64(2) {
		t.Fatalf("got %v", e)
	}
	// The correction is a new event; the original text stays in the stream.
	evs, err := h.store.ReadStream(context.Background(), "log-2026-01-15", 0, eventstore.Forwards, 0)
	if err != nil || len(evs) != 2 || !strings.Contains(string(evs[0].Data), `"Se activa el COE comunal"`) {
		t.Fatalf("got %d events %v", len(evs), err)
	}
}

// TestBodyLimitOverRealHTTP: fasthttp refuses an oversized body before any
// handler runs (from its Content-Length); the client still gets a 413
// problem, over a real socket.
func TestBodyLimitOverRealHTTP(t *testing.T) {
	h := newTestHub(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.App().Listener(ln) }()
	t.Cleanup(func() { _ = h.App().Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Only the headers: the server must answer from Content-Length alone.
	_, err = io.WriteString(conn, "POST /api/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Cookie: "+SessionCookie+"="+h.cookies["ana"]+"\r\nContent-Length: 71680\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("got %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
}

func (h *testHub) userID(t *testing.T, username string) string {
	t.Helper()
	u, ok, err := h.model.UserByName(context.Background(), username)
	if err != nil || !ok {
		t.Fatalf("user %s: %v %v", username, ok, err)
	}
	return u.ID
}

// countingReads counts the alert-list reads that reach the read model.
type countingReads struct {
	projections.Queries
	alerts atomic.Int64
}

func (c *countingReads) Alerts(ctx context.Context, status string) ([]projections.AlertView, error) {
	c.alerts.Add(1)
	return c.Queries.Alerts(ctx, status)
}

// standbyProjector is a projector that does not apply events itself, as
// a standby over a shared Postgres read model.
type standbyProjector struct{ *projections.Projector }

func (standbyProjector) Leading() bool { return false }

// withReads returns a copy of h whose server reads through r and follows
// p (nil: h's projector).
func (h *testHub) withReads(r projections.Queries, p projector) *testHub {
	cfg := h.Server.cfg
	cfg.Reads = r
	if p != nil {
		cfg.Projector = p
	}
	h2 := *h
	h2.Server = New(cfg)
	return &h2
}

func TestAlertListIsEncodedOncePerChangeAndReadAfterWriteSeesIt(t *testing.T) {
	base := newTestHub(t)
	counting := &countingReads{Queries: base.model}
	h := base.withReads(counting, nil)
	id := h.declare(t)

	first := h.do(t, "GET", "/api/alerts", nil, "")
	tag := first.header.Get("ETag")
	if first.status != 200 || tag == "" || first.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: got %d ETag %q Cache-Control %q", first.status, tag, first.header.Get("Cache-Control"))
	}
	if ct := first.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q", ct)
	}
	reads := counting.alerts.Load()
	again := h.do(t, "GET", "/api/alerts", nil, "")
	if again.raw != first.raw || again.header.Get("ETag") != tag {
		t.Fatalf("unchanged list: got a different answer:\n%s\n%s", again.raw, first.raw)
	}
	if n := counting.alerts.Load() - reads; n != 0 {
		t.Errorf("unchanged list: read the model %d more times, want 0", n)
	}
	// The cached bytes are what encoding the read model gives.
	rows, _ := base.model.Alerts(context.Background(), "vigente")
	want, _ := json.Marshal(alertList{Alerts: rows, Position: base.proj.Position().String()})
	if first.raw != string(want) {
		t.Errorf("list body:\ngot  %s\nwant %s", first.raw, want)
	}

	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
		r := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": inm}, "")
		if r.status != 304 || r.raw != "" || r.header.Get("ETag") != tag {
			t.Errorf("If-None-Match %s: got %d %q ETag %q, want 304 without a body", inm, r.status, r.raw, r.header.Get("ETag"))
		}
	}
	if r := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": `"l-0"`}, ""); r.status != 200 {
		t.Errorf("another tag: got %d, want 200", r.status)
	}

	// A write, then a read by the same client: the read sees the write,
	// even when it presents the tag of the list before it.
	if r := h.do(t, "PATCH", "/api/alerts/"+id, map[string]string{"If-Match": `"0"`}, `{"level":"roja"}`); r.status != 200 {
		t.Fatalf("patch: got %d %s", r.status, r.raw)
	}
	after := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": tag}, "")
	if after.status != 200 {
		t.Fatalf("read after write: got %d, want 200", after.status)
	}
	if got := after.body["alerts"].([]any)[0].(map[string]any); got["level"] != "roja" || got["version"] != float64(1) {
		t.Errorf("read after write: got %v", got)
	}
	if after.header.Get("ETag") == tag || after.body["position"] == first.body["position"] {
		t.Errorf("read after write: same ETag %q / position %v as before the write", tag, first.body["position"])
	}

	// Statuses are cached apart.
	if r := h.do(t, "GET", "/api/alerts?status=cancelada", nil, ""); len(r.body["alerts"].([]any)) != 0 {
		t.Fatalf("cancelled before cancelling: got %s", r.raw)
	}
	if r := h.do(t, "POST", "/api/alerts/"+id+"/cancel", map[string]string{"If-Match": `"1"`}, `{}`); r.status != 200 {
		t.Fatalf("cancel: got %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/alerts?status=cancelada", nil, ""); len(r.body["alerts"].([]any)) != 1 {
		t.Errorf("cancelled after cancelling: got %s", r.raw)
	}
	if r := h.do(t, "GET", "/api/alerts", nil, ""); len(r.body["alerts"].([]any)) != 0 {
		t.Errorf("in force after cancelling: got %s", r.raw)
	}
	if r := h.do(t, "GET", "/api/alerts?status=all", nil, ""); len(r.body["alerts"].([]any)) != 1 {
		t.Errorf("all: got %s", r.raw)
	}
}

func TestAlertListIsTheSameForEveryRole(t *testing.T) {
	h := newTestHub(t)
	h.declare(t)
	h.addUser(t, "vera", "viewer")
	h.as = "admin"
	tok := h.do(t, "POST", "/api/tokens", nil, `{"name":"muro","role":"display"}`)
	if tok.status != 201 {
		t.Fatalf("token: got %d %s", tok.status, tok.raw)
	}
	h.as = "ana"
	want := h.do(t, "GET", "/api/alerts", nil, "")
	for _, who := range []struct {
		as  string
		hdr map[string]string
	}{{"admin", nil}, {"vera", nil}, {"", map[string]string{"Authorization": "Bearer " + tok.body["token"].(string)}}} {
		h.as = who.as
		r := h.do(t, "GET", "/api/alerts", who.hdr, "")
		if r.status != 200 || r.raw != want.raw {
			t.Errorf("as %q: got %d %s, want the operator's %s", who.as, r.status, r.raw, want.raw)
		}
	}
	h.as = ""
	if r := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": want.header.Get("ETag")}, ""); r.status != 401 {
		t.Errorf("anonymous with the list's ETag: got %d, want 401", r.status)
	}
}

// A standby over a shared read model learns positions after the rows
// change: it must read the model on every request.
func TestAlertListIsNotCachedOnAStandby(t *testing.T) {
	base := newTestHub(t)
	counting := &countingReads{Queries: base.model}
	h := base.withReads(counting, standbyProjector{base.proj})
	h.declare(t)
	first := h.do(t, "GET", "/api/alerts", nil, "")
	n := counting.alerts.Load()
	second := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": first.header.Get("ETag")}, "")
	if second.status != 304 {
		t.Errorf("unchanged list on a standby: got %d, want 304", second.status)
	}
	if got := counting.alerts.Load() - n; got != 1 {
		t.Errorf("standby: read the model %d times for one request, want 1", got)
	}
}
