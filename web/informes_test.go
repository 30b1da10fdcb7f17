package web

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	authmem "github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// movingClock is the clock of the store and the commands; the test moves
// it across days. Sessions keep their own, fixed, clock.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newInformeHub is newTestHub with a History and a clock that moves.
func newInformeHub(t *testing.T, clock *movingClock) *testHub {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	model := memory.New()
	proj := projections.NewProjector(store, model, nil, log)
	loc, _ := time.LoadLocation("America/Santiago")
	hist := projections.NewHistory(store, memory.NewSnapshots(), loc, log)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = proj.Run(ctx) }()
	go func() { defer wg.Done(); _ = hist.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); store.Close() })
	fixed := func() time.Time { return time.Date(2026, 9, 5, 12, 0, 0, 0, time.UTC) }
	svc, err := auth.NewService(auth.ServiceConfig{
		Accounts: NewAccounts(model), Sessions: authmem.NewSessionStore(fixed), Tokens: authmem.NewTokenStore(fixed),
		Limiter: authmem.NewLimiter(auth.DefaultLimitPolicy, fixed), Params: auth.TestParams, Now: fixed,
	})
	if err != nil {
		t.Fatal(err)
	}
	cmds := command.New(store, command.WithClock(clock.now))
	s := New(Config{
		Log: log, Commands: cmds, Reads: model, Projector: proj, Auth: svc, PasswordParams: auth.TestParams,
		Location: loc, Streams: store, History: hist,
	})
	h := &testHub{Server: s, store: store, model: model, cmds: cmds, proj: proj, cookies: map[string]string{}}
	h.addUser(t, "admin", "admin")
	h.addUser(t, "ana", "operator")
	h.as = "ana"
	return h
}

func TestInformesAPI(t *testing.T) {
	loc, _ := time.LoadLocation("America/Santiago")
	clock := &movingClock{t: time.Date(2026, 9, 5, 9, 0, 0, 0, loc)}
	h := newInformeHub(t, clock)
	must := func(r response, status int) response {
		t.Helper()
		if r.status != status {
			t.Fatalf("got %d, want %d: %s", r.status, status, r.raw)
		}
		return r
	}

	// Saturday 5 September 2026, the day before DST starts: an alert, a
	// shift and a novedad in the morning, and the alert raised to roja at
	// 23:30, an hour that ends at 04:00 UTC (not at 03:00).
	clock.set(time.Date(2026, 9, 5, 10, 0, 0, 0, loc))
	id := h.declare(t)
	must(h.do(t, "PUT", "/api/shifts/2026-09-05/am", map[string]string{"If-None-Match": "*"}, `{"start":"08:00","end":"20:00","lead":"Carla Soto","operators":["Diego Paz"]}`), 201)
	must(h.do(t, "POST", "/api/log", nil, `{"text":"Marejadas en el borde costero","comunas":["05101"]}`), 201)
	clock.set(time.Date(2026, 9, 5, 23, 30, 0, 0, loc))
	must(h.do(t, "PATCH", "/api/alerts/"+id, map[string]string{"If-Match": `"0"`}, `{"level":"roja","reason":"el fuego avanza"}`), 200)
	// Sunday: the alert is cancelled and another novedad written.
	clock.set(time.Date(2026, 9, 6, 10, 0, 0, 0, loc))
	must(h.do(t, "POST", "/api/alerts/"+id+"/cancel", map[string]string{"If-Match": `"1"`}, `{"reason":"controlado"}`), 200)
	must(h.do(t, "POST", "/api/log", nil, `{"text":"Incendio controlado"}`), 201)
	// Monday morning: now.
	clock.set(time.Date(2026, 9, 7, 9, 0, 0, 0, loc))

	h.as = "admin"
	tok := must(h.do(t, "POST", "/api/tokens", nil, `{"name":"pantalla","role":"display","expires_in":"720h"}`), 201)
	display := map[string]string{"Authorization": "Bearer " + tok.body["token"].(string)}
	h.as = "ana"

	changes := must(h.do(t, "GET", "/api/informes/2026-09-05/changes", nil, ""), 200)
	list, _ := changes.body["changes"].([]any)
	if changes.body["date"] != "2026-09-05" || len(list) != 4 {
		t.Fatalf("changes of 2026-09-05: want the declaration, the shift, the novedad and the level change: %s", changes.raw)
	}
	first := list[0].(map[string]any)
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := strings.Join(keys, ","); got != "actor,position,recorded_at,stream,summary,type,version" {
		t.Fatalf("a change has the keys %s", got)
	}
	last := list[3].(map[string]any)
	if first["type"] != "alert.declared" || first["actor"] != "ana" || first["stream"] != "alert-"+id || first["version"] != 0.0 ||
		last["type"] != "alert.level_changed" || last["summary"] != "ana cambió el nivel de la alerta «Incendio en Quilpué» de amarilla a roja" ||
		last["recorded_at"] != "2026-09-06T03:30:00Z" {
		t.Fatalf("changes: %s", changes.raw)
	}
	firstPos := first["position"].(string)

	alertsOf := func(t *testing.T, r response) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, a := range r.body["alerts"].([]any) {
			out = append(out, a.(map[string]any))
		}
		return out
	}
	count := func(r response, key string) int { return len(r.body[key].([]any)) }
	tests := []struct {
		name       string
		path       string
		headers    map[string]string
		as         string
		wantStatus int
		wantFields []string
		check      func(t *testing.T, r response)
	}{
		{name: "a past day as of its end, 23:30 included", path: "/api/informes/2026-09-05", wantStatus: 200, check: func(t *testing.T, r response) {
			a := alertsOf(t, r)
			if len(a) != 1 || a[0]["level"] != "roja" || a[0]["title"] != "Incendio en Quilpué" || fmt.Sprint(a[0]["comunas"]) != "[05801 05804]" {
				t.Fatalf("alerts: %s", r.raw)
			}
			if r.body["as_of"] != "2026-09-06T01:00:00-03:00" || r.body["date"] != "2026-09-05" || count(r, "shifts") != 1 || count(r, "log") != 1 || r.body["header"] != nil {
				t.Fatalf("informe: %s", r.raw)
			}
		}},
		{name: "the next day: cancelled", path: "/api/informes/2026-09-06", wantStatus: 200, check: func(t *testing.T, r response) {
			if count(r, "alerts") != 0 || count(r, "log") != 1 || count(r, "shifts") != 0 {
				t.Fatalf("informe: %s", r.raw)
			}
		}},
		{name: "at a moment of the day", path: "/api/informes/2026-09-05?at=2026-09-05T12:00:00-04:00", wantStatus: 200, check: func(t *testing.T, r response) {
			if a := alertsOf(t, r); len(a) != 1 || a[0]["level"] != "amarilla" || r.body["as_of"] != "2026-09-05T12:00:00-04:00" {
				t.Fatalf("informe: %s", r.raw)
			}
		}},
		{name: "the first change of the day", path: "/api/informes/2026-09-05?upto=" + firstPos, wantStatus: 200, check: func(t *testing.T, r response) {
			if a := alertsOf(t, r); len(a) != 1 || a[0]["level"] != "amarilla" || count(r, "shifts") != 0 || count(r, "log") != 0 || r.body["upto"] != firstPos || r.body["position"] != firstPos {
				t.Fatalf("informe: %s", r.raw)
			}
		}},
		{name: "today is as of now", path: "/api/informes/2026-09-07", wantStatus: 200, check: func(t *testing.T, r response) {
			if r.body["as_of"] != "2026-09-07T09:00:00-03:00" || count(r, "alerts") != 0 {
				t.Fatalf("informe: %s", r.raw)
			}
		}},
		{name: "a display token reads it", path: "/api/informes/2026-09-05", headers: display, as: "-", wantStatus: 200},
		{name: "anonymous", path: "/api/informes/2026-09-05", as: "-", wantStatus: 401},
		{name: "a future day", path: "/api/informes/2026-09-08", wantStatus: 422, wantFields: []string{"date"}},
		{name: "the changes of a future day", path: "/api/informes/2026-09-08/changes", wantStatus: 422, wantFields: []string{"date"}},
		{name: "a malformed date", path: "/api/informes/2026-13-01", wantStatus: 400, wantFields: []string{"date"}},
		{name: "not a date", path: "/api/informes/hoy", wantStatus: 400, wantFields: []string{"date"}},
		{name: "a malformed at", path: "/api/informes/2026-09-05?at=ayer", wantStatus: 400, wantFields: []string{"at"}},
		{name: "at before the day", path: "/api/informes/2026-09-05?at=2026-09-04T23:59:59-04:00", wantStatus: 422, wantFields: []string{"at"}},
		{name: "at in the future", path: "/api/informes/2026-09-05?at=2026-09-08T00:00:00-03:00", wantStatus: 422, wantFields: []string{"at"}},
		{name: "a malformed upto", path: "/api/informes/2026-09-05?upto=abc", wantStatus: 400, wantFields: []string{"upto"}},
		{name: "upto zero", path: "/api/informes/2026-09-05?upto=0", wantStatus: 400, wantFields: []string{"upto"}},
		{name: "an unknown format", path: "/api/informes/2026-09-05?format=xml", wantStatus: 400, wantFields: []string{"format"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.as = "ana"
			if tc.as == "-" {
				h.as = ""
			}
			r := h.do(t, "GET", tc.path, tc.headers, "")
			if r.status != tc.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tc.wantStatus, r.raw)
			}
			if tc.wantStatus >= 400 {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("content type %q", ct)
				}
				fields, _ := r.body["fields"].(map[string]any)
				for _, f := range tc.wantFields {
					if msg, _ := fields[f].(string); msg == "" {
						t.Fatalf("no message for field %s: %s", f, r.raw)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	for _, path := range []string{"/api/informes/2026-09-05.pdf", "/api/informes/2026-09-05?format=pdf"} {
		t.Run("pdf "+path, func(t *testing.T) {
			h.as = "ana"
			r := h.do(t, "GET", path, nil, "")
			if r.status != 200 {
				t.Fatalf("got %d: %s", r.status, r.raw)
			}
			if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/pdf" || cd != `attachment; filename="informe-2026-09-05.pdf"` {
				t.Fatalf("headers %q, %q", ct, cd)
			}
			if !strings.HasPrefix(r.raw, "%PDF") {
				t.Fatalf("not a PDF: %.40q", r.raw)
			}
			text := pdfText(t, r.raw)
			if text == "" {
				return
			}
			for _, want := range []string{"Incendio en Quilpué", "Quilpué", "Villa Alemana", "Carla Soto", "Marejadas en el borde costero"} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

// pdfText extracts a PDF's text with pdftotext (poppler-utils), or
// returns "" when it is not installed.
func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext not installed: the PDF's text is not checked")
		return ""
	}
	cmd := exec.Command(bin, "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = strings.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Layout may break lines; compare with single spaces.
	return strings.Join(strings.Fields(string(out)), " ")
}
