package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The history pages in a real browser: the audit (/auditoria) with its
// filters, "Cargar más" and the link to a stream's history (/historial), and
// the línea de tiempo (/linea-de-tiempo) stepping through a day's changes.
// Same helpers and rules as browser_test.go: real logins, no sleeps, every
// wait bounded by a DOM condition.

// evalAsync evaluates a JavaScript expression that returns a promise and
// decodes what it resolves to.
func evalAsync[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// fetchStatus is the HTTP status the page's own fetch of path gets, with
// the page's cookies: what the page's scripts get.
func fetchStatus(b *browser, path string) int {
	b.t.Helper()
	return evalAsync[int](b, fmt.Sprintf(`fetch(%q, {headers: {Accept: 'application/json'}}).then((r) => r.status)`, path))
}

// fetchText is the body the page's own fetch of path gets.
func fetchText(b *browser, path string) string {
	b.t.Helper()
	return evalAsync[string](b, fmt.Sprintf(`fetch(%q).then((r) => r.text())`, path))
}

// mustCall sends a request through c and fails the test unless it answers want.
func mustCall(t *testing.T, c *client, want int, method, path string, headers map[string]string, body string, out any) {
	t.Helper()
	code, _, err := c.call(method, path, headers, body, out)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, code, err, want)
	}
}

// dayChange is one row of GET /api/informes/{date}/changes.
type dayChange struct {
	Position   string    `json:"position"`
	RecordedAt time.Time `json:"recorded_at"`
	Stream     string    `json:"stream"`
	Version    int       `json:"version"`
	Type       string    `json:"type"`
	Actor      string    `json:"actor"`
	Summary    string    `json:"summary"`
}

// TestBrowserAuditAndTimeline: three people edit an alert, a shift and the
// log through the API. A supervisor's audit page, filtered by one of them,
// lists exactly that person's edits with their diffs, pages with "Cargar
// más" without gaps or repeats, and links to the alert's full history. An
// operator's línea de tiempo steps through the day's changes and shows the
// alert amarilla before the level change and roja after it, and the address
// brings back the same moment. A viewer gets no audit link, and the audit
// API answers it 403.
func TestBrowserAuditAndTimeline(t *testing.T) {
	needChromium(t)
	m := startMain(t, t.TempDir())
	base := "http://" + m.Addr()
	admin := newClient(t, m.Addr(), testAdmin, testPassword)
	const password = "una clave larga de prueba"
	for _, u := range []struct{ name, display, role string }{
		{"mjara", "María Jara", "operator"},
		{"pvera", "Pedro Vera", "operator"},
		{"sgomez", "Sofía Gómez", "supervisor"},
		{"visor1", "Visor de sala", "viewer"},
	} {
		mustCall(t, admin, 201, "POST", "/api/users", nil,
			fmt.Sprintf(`{"username":%q,"display_name":%q,"role":%q,"password":%q}`, u.name, u.display, u.role, password), nil)
	}
	mjara := newClient(t, m.Addr(), "mjara", password)
	pvera := newClient(t, m.Addr(), "pvera", password)
	sgomez := newClient(t, m.Addr(), "sgomez", password)
	today := time.Now().In(mustSantiago(t)).Format(time.DateOnly)

	// The script: mjara declares, pvera raises to roja, sgomez widens the
	// scope, pvera retitles, pvera assigns a shift, mjara writes a novedad.
	var alert alertRow
	mustCall(t, mjara, 201, "POST", "/api/alerts", nil, `{"hazard":"incendio_forestal","level":"amarilla",`+
		`"title":"Incendio forestal en Quilpué","description":"Foco en sector El Retiro.","comunas":["05801"]}`, &alert)
	ifMatch := func(v int) map[string]string { return map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)} }
	mustCall(t, pvera, 200, "PATCH", "/api/alerts/"+alert.ID, ifMatch(alert.Version), `{"level":"roja","reason":"Viento de 60 km/h"}`, &alert)
	mustCall(t, sgomez, 200, "PATCH", "/api/alerts/"+alert.ID, ifMatch(alert.Version), `{"comunas":["05801","05804"]}`, &alert)
	const newTitle = "Incendio forestal en Quilpué y Villa Alemana"
	mustCall(t, pvera, 200, "PATCH", "/api/alerts/"+alert.ID, ifMatch(alert.Version), `{"title":"`+newTitle+`"}`, &alert)
	mustCall(t, pvera, 201, "PUT", "/api/shifts/"+today+"/noche", map[string]string{"If-None-Match": "*"},
		`{"start":"20:00","end":"08:00","lead":"Felipe Contreras","operators":["Javiera Pérez"]}`, nil)
	const novedad = "Bomberos confirma evacuación preventiva del sector El Retiro."
	mustCall(t, mjara, 201, "POST", "/api/log", nil, `{"text":"`+novedad+`","category":"incidente"}`, nil)
	alertStream := "alert-" + alert.ID

	t.Run("the audit filtered by actor lists exactly that actor's edits, with diffs and more pages", func(t *testing.T) {
		sup := newBrowser(t, "supervisora", 1440, 900)
		sup.login(base, "sgomez", password)
		sup.do("the board links to the audit", pageTimeout,
			chromedp.WaitVisible(chromedp.ID("nav-audit")),
			chromedp.Click(chromedp.ID("nav-audit")),
			chromedp.WaitVisible(chromedp.ID("audit-form")))
		// Unfiltered, the newest is mjara's novedad.
		sup.waitJS("the audit lists the newest changes", pageTimeout,
			`document.querySelector('#audit-list .audit-entry')?.dataset.type === 'log.entry_added'`)
		// Two per page, so pvera's three edits take two pages.
		sup.do("filter by pvera, two per page", pageTimeout,
			chromedp.Navigate(base+"/auditoria?limit=2"),
			chromedp.WaitVisible(chromedp.CSS(`#audit-list .audit-entry`)),
			chromedp.SendKeys(chromedp.ID("audit-actor"), "pvera"),
			chromedp.Click(chromedp.ID("audit-search")))
		sup.waitJS("two of pvera's entries and a Cargar más", pageTimeout,
			`(() => { const e = [...document.querySelectorAll('#audit-list .audit-entry')];
			  return e.length === 2 && e.every((li) => li.dataset.actor === 'pvera') && !document.getElementById('audit-more').hidden; })()`)
		if u := evalJS[string](sup, `location.search`); !strings.Contains(u, "actor=pvera") {
			t.Fatalf("the address %q does not keep the filter", u)
		}
		href := evalJS[string](sup, `document.getElementById('audit-csv').getAttribute('href')`)
		if !strings.Contains(href, "format=csv") || !strings.Contains(href, "actor=pvera") {
			t.Fatalf("CSV link %q", href)
		}
		// The export is the same query, every page of it: a header and pvera's three rows.
		if lines := strings.Split(strings.TrimSpace(fetchText(sup, href)), "\n"); len(lines) != 4 || !strings.Contains(lines[3], "alert.level_changed") {
			t.Fatalf("CSV export %q", lines)
		}
		sup.do("load more", pageTimeout, chromedp.Click(chromedp.ID("audit-more")))
		sup.waitJS("the last page is appended", pageTimeout,
			`document.querySelectorAll('#audit-list .audit-entry').length === 3 && document.getElementById('audit-more').hidden`)

		type entry struct {
			Position, Type, Actor, Stream, Summary, Level, Diff string
		}
		got := evalJS[[]entry](sup, `[...document.querySelectorAll('#audit-list .audit-entry')].map((li) => ({
			Position: li.dataset.position, Type: li.dataset.type, Actor: li.dataset.actor, Stream: li.dataset.stream,
			Summary: li.querySelector('.audit-summary').textContent,
			Level: [...li.querySelectorAll('tr[data-field="level"] td')].map((td) => td.textContent).join(' → '),
			Diff: li.querySelector('.audit-diff')?.textContent || '' }))`)
		wantTypes := []string{"shift.assigned", "alert.details_updated", "alert.level_changed"}
		seen := map[string]bool{}
		for i, e := range got {
			if e.Actor != "pvera" || e.Type != wantTypes[i] {
				t.Fatalf("entry %d is %s by %s, want %s by pvera (newest first): %+v", i, e.Type, e.Actor, wantTypes[i], got)
			}
			if seen[e.Position] {
				t.Fatalf("position %s listed twice: %+v", e.Position, got)
			}
			seen[e.Position] = true
		}
		if lv := got[2]; lv.Level != "Alerta Amarilla → Alerta Roja" || !strings.Contains(lv.Summary, "de amarilla a roja") || lv.Stream != alertStream {
			t.Fatalf("level change entry %+v, want the diff Alerta Amarilla → Alerta Roja", lv)
		}
		if d := got[1].Diff; !strings.Contains(d, "Título") || !strings.Contains(d, "Incendio forestal en Quilpué") || !strings.Contains(d, newTitle) {
			t.Fatalf("title change diff %q", d)
		}
		if d := got[0].Diff; !strings.Contains(d, "Felipe Contreras") {
			t.Fatalf("shift diff %q", d)
		}

		// The stream link opens the alert's whole history, in order.
		sup.do("open the alert's history", pageTimeout,
			chromedp.Click(chromedp.CSS(`#audit-list .audit-entry[data-type="alert.level_changed"] a.audit-stream`)),
			chromedp.WaitVisible(chromedp.CSS(`#history-list .history-event`)))
		sup.waitJS("the history lists every version", pageTimeout, `document.querySelectorAll('#history-list .history-event').length === 4`)
		if p := evalJS[string](sup, `location.pathname + location.search`); p != "/historial?stream="+url.QueryEscape(alertStream) {
			t.Fatalf("history address %q", p)
		}
		versions := evalJS[[]string](sup, `[...document.querySelectorAll('#history-list .history-event')].map((li) => li.dataset.version + ' ' + li.dataset.type)`)
		want := []string{"0 alert.declared", "1 alert.level_changed", "2 alert.scope_changed", "3 alert.details_updated"}
		if strings.Join(versions, ",") != strings.Join(want, ",") {
			t.Fatalf("history %v, want %v", versions, want)
		}
		if data := sup.text(`#history-list .history-event[data-version="1"] .history-data`); !strings.Contains(data, `"roja"`) {
			t.Fatalf("level change data %q", data)
		}
		if h := sup.text(`#history-list .history-event[data-version="2"] .history-head`); !strings.Contains(h, "sgomez") || !strings.Contains(h, "Cambio de territorio") {
			t.Fatalf("scope change head %q", h)
		}

		// A mistake in a filter comes back in Spanish, next to its input.
		sup.do("an impossible range", pageTimeout,
			chromedp.Navigate(base+"/auditoria"),
			chromedp.WaitVisible(chromedp.ID("audit-form")),
			chromedp.SetValue(chromedp.ID("audit-from"), today+"T12:00"),
			chromedp.SetValue(chromedp.ID("audit-to"), today+"T11:00"),
			chromedp.Click(chromedp.ID("audit-search")),
			chromedp.WaitVisible(chromedp.CSS(`#audit-to[aria-invalid="true"]`)))
		if msg := sup.text(`[data-field="to"] .field-error`); !strings.Contains(msg, "posterior") {
			t.Fatalf("range error %q", msg)
		}
	})

	t.Run("the línea de tiempo steps through the day's changes", func(t *testing.T) {
		var changes struct {
			Date    string      `json:"date"`
			Changes []dayChange `json:"changes"`
		}
		mustCall(t, mjara, 200, "GET", "/api/informes/"+today+"/changes", nil, "", &changes)
		level := -1
		for i, c := range changes.Changes {
			if c.Stream == alertStream && c.Type == "alert.level_changed" {
				level = i
			}
		}
		if level < 1 || changes.Changes[level-1].Type != "alert.declared" {
			t.Fatalf("the day's changes %+v have no declaration followed by the level change", changes.Changes)
		}
		n := len(changes.Changes)
		card := cardSel(alert.ID)
		op := newBrowser(t, "operadora", 1440, 900)
		op.login(base, "mjara", password)
		if evalJS[bool](op, `document.getElementById('nav-audit') !== null`) {
			t.Fatal("an operator is offered the audit")
		}
		op.do("open the línea de tiempo", pageTimeout,
			chromedp.Click(chromedp.ID("nav-timeline")),
			chromedp.WaitVisible(chromedp.ID("tl-form")))
		op.waitJS("today, after the last change", pageTimeout,
			fmt.Sprintf(`document.querySelectorAll('#tl-changes .tl-change').length === %d && document.getElementById('tl-step')?.dataset.index === '%d' && document.querySelector(%q) !== null`,
				n, n-1, card+`[data-level="roja"]`))
		if v := evalJS[string](op, `document.getElementById('tl-date').value`); v != today {
			t.Fatalf("the day defaults to %q, want today %s", v, today)
		}
		if got := op.text("#log-list"); !strings.Contains(got, novedad) {
			t.Fatalf("the rebuilt log %q lacks the novedad", got)
		}

		// Step back, one change at a time, to the level change.
		for i := n - 2; i >= level; i-- {
			op.do("step back", pageTimeout, chromedp.Click(chromedp.ID("tl-prev")))
			op.waitJS(fmt.Sprintf("at change %d", i), pageTimeout,
				fmt.Sprintf(`document.getElementById('tl-step')?.dataset.index === '%d' && document.getElementById('tl-board')?.hasAttribute('aria-busy') === false`, i))
		}
		op.waitJS("after the level change: roja, marked as what changed", pageTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null`, card+`[data-level="roja"].is-changed`))
		if step := op.text("#tl-step"); !strings.Contains(step, fmt.Sprintf("Cambio %d de %d", level+1, n)) || !strings.Contains(step, "de amarilla a roja") {
			t.Fatalf("step text %q", step)
		}
		if cur := evalJS[string](op, `document.querySelector('#tl-changes [aria-current="step"]')?.closest('li')?.dataset.position || ''`); cur != changes.Changes[level].Position {
			t.Fatalf("the list marks %q as current, want %s", cur, changes.Changes[level].Position)
		}
		// Before the level change the alert was still amarilla and is itself what changed.
		op.do("step back once more", pageTimeout, chromedp.Click(chromedp.ID("tl-prev")))
		op.waitJS("before the level change: amarilla", pageTimeout,
			fmt.Sprintf(`document.getElementById('tl-step')?.dataset.index === '%d' && document.querySelector(%q) !== null`, level-1, card+`[data-level="amarilla"].is-changed`))
		if title := op.text(card + " .alert-title"); title != "Incendio forestal en Quilpué" {
			t.Fatalf("before the retitling the card says %q", title)
		}
		op.do("step forward", pageTimeout, chromedp.Click(chromedp.ID("tl-next")))
		op.waitJS("roja again", pageTimeout,
			fmt.Sprintf(`document.getElementById('tl-step')?.dataset.index === '%d' && document.querySelector(%q) !== null`, level, card+`[data-level="roja"]`))

		// The address is the moment: reloading it shows the same board.
		addr := evalJS[string](op, `location.href`)
		wantQuery := url.Values{"date": {today}, "upto": {changes.Changes[level].Position}}.Encode()
		if !strings.HasSuffix(addr, "/linea-de-tiempo?"+wantQuery) {
			t.Fatalf("address %q, want ?%s", addr, wantQuery)
		}
		if pdf := evalJS[string](op, `document.getElementById('tl-pdf').getAttribute('href')`); pdf != "/api/informes/"+today+".pdf?upto="+url.QueryEscape(changes.Changes[level].Position) {
			t.Fatalf("PDF link %q", pdf)
		}
		op.do("reload the moment", pageTimeout, chromedp.Navigate(addr))
		op.waitJS("the same moment after a reload", pageTimeout,
			fmt.Sprintf(`document.getElementById('tl-step')?.dataset.index === '%d' && document.querySelector(%q) !== null`, level, card+`[data-level="roja"].is-changed`))

		// A time picked in the form: at midnight the alert did not exist yet.
		op.do("pick 00:00", pageTimeout,
			chromedp.SetValue(chromedp.ID("tl-time"), "00:00"),
			chromedp.Click(chromedp.ID("tl-go")))
		op.waitJS("the board at midnight", pageTimeout,
			fmt.Sprintf(`document.getElementById('tl-step')?.dataset.index === '-1' && document.querySelector(%q) === null && location.search.includes('at=')`, card))
		if at := evalJS[string](op, `new URLSearchParams(location.search).get('at')`); !strings.HasPrefix(at, today+"T00:00:00-0") {
			t.Fatalf("at=%q, want today's midnight in Santiago time", at)
		}
		op.do("step into the first change", pageTimeout, chromedp.Click(chromedp.ID("tl-next")))
		op.waitJS("at the first change", pageTimeout, `document.getElementById('tl-step')?.dataset.index === '0'`)

		// An API problem is shown in Spanish, not swallowed.
		op.do("a malformed moment", pageTimeout,
			chromedp.Navigate(base+"/linea-de-tiempo?date="+today+"&at=ayer"),
			chromedp.WaitVisible(chromedp.ID("tl-banner")))
		if msg := op.text("#tl-banner"); !strings.Contains(msg, "No se pudo reconstruir el tablero") {
			t.Fatalf("banner %q", msg)
		}
	})

	t.Run("a viewer has no audit", func(t *testing.T) {
		v := newBrowser(t, "visor", 1280, 800)
		v.login(base, "visor1", password)
		v.do("see the board's navigation", pageTimeout, chromedp.WaitVisible(chromedp.ID("nav-timeline")))
		if evalJS[bool](v, `document.getElementById('nav-audit') !== null`) {
			t.Fatal("a viewer is offered the audit")
		}
		v.do("open /auditoria anyway", pageTimeout,
			chromedp.Navigate(base+"/auditoria"),
			chromedp.WaitVisible(chromedp.ID("audit-banner")))
		if msg := v.text("#audit-banner"); !strings.Contains(msg, "Sin permiso") {
			t.Fatalf("banner %q", msg)
		}
		if n := evalJS[int](v, `document.querySelectorAll('#audit-list .audit-entry').length`); n != 0 {
			t.Fatalf("a viewer sees %d audit entries", n)
		}
		for _, p := range []string{"/api/audit", "/api/audit?actor=pvera&format=csv", "/api/streams/" + alertStream} {
			if code := fetchStatus(v, p); code != 403 {
				t.Fatalf("GET %s as a viewer: %d, want 403", p, code)
			}
		}
		// The línea de tiempo is for every role.
		if code := fetchStatus(v, "/api/informes/"+today+"/changes"); code != 200 {
			t.Fatalf("changes as a viewer: %d", code)
		}
		if body := fetchText(v, "/api/informes/"+today); !strings.Contains(body, alert.ID) {
			t.Fatalf("informe as a viewer: %.300s", body)
		}
	})
}

// TestBrowserScreenshotsHistory renders the audit page (1600×900) and the
// línea de tiempo (1920×1080, a wall-display size) on the demo data after
// a few edits by the demo users. With HUB_SCREENSHOTS=1 (make screenshots)
// it saves them to docs/screenshots; otherwise to a temporary directory.
func TestBrowserScreenshotsHistory(t *testing.T) {
	needChromium(t)
	m, _ := openHub(t, t.TempDir(), "127.0.0.1:0", true)
	base := "http://" + m.Addr()
	dir := t.TempDir()
	if os.Getenv("HUB_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	op := newClient(t, m.Addr(), demoUsers[0].username, demoUsers[0].password)
	sup := newClient(t, m.Addr(), demoUsers[1].username, demoUsers[1].password)
	var list struct {
		Alerts []alertRow `json:"alerts"`
	}
	mustCall(t, op, 200, "GET", "/api/alerts", nil, "", &list)
	var target alertRow
	for _, a := range list.Alerts {
		if a.Level == "amarilla" {
			target = a
		}
	}
	if target.ID == "" {
		t.Fatalf("no amarilla alert in the demo data: %+v", list.Alerts)
	}
	ifMatch := map[string]string{"If-Match": fmt.Sprintf(`"%d"`, target.Version)}
	mustCall(t, op, 200, "PATCH", "/api/alerts/"+target.ID, ifMatch, `{"level":"roja","reason":"Condiciones empeoran"}`, &target)
	ifMatch = map[string]string{"If-Match": fmt.Sprintf(`"%d"`, target.Version)}
	mustCall(t, sup, 200, "PATCH", "/api/alerts/"+target.ID, ifMatch, fmt.Sprintf(`{"title":%q}`, strings.Replace(target.Title, "Amarilla", "Roja", 1)), nil)
	mustCall(t, op, 201, "POST", "/api/log", nil, `{"text":"Se informa a los municipios el cambio a Alerta Roja.","category":"coordinacion"}`, nil)

	audit := newBrowser(t, "auditoria", 1600, 900)
	audit.login(base, demoUsers[1].username, demoUsers[1].password)
	audit.do("open the audit", pageTimeout, chromedp.Navigate(base+"/auditoria?stream=alert-"))
	audit.waitJS("the audit lists the edits", pageTimeout,
		`document.querySelectorAll('#audit-list .audit-entry .audit-diff').length >= 2 && document.fonts.status === 'loaded'`)
	audit.screenshot(filepath.Join(dir, "auditoria.png"))

	tl := newBrowser(t, "linea-de-tiempo", 1920, 1080)
	tl.login(base, demoUsers[0].username, demoUsers[0].password)
	tl.do("open the línea de tiempo", pageTimeout, chromedp.Navigate(base+"/linea-de-tiempo"))
	// The list comes before the board: wait until the board is at the
	// day's last change (the stepper is enabled only then).
	tl.waitJS("the day's changes are listed, the board at the last one", pageTimeout,
		`document.querySelectorAll('#tl-changes .tl-change').length > 0 && document.querySelector('#tl-changes .is-current')?.dataset.type === 'log.entry_added' && !document.getElementById('tl-prev').disabled`)
	tl.do("step back to the level change", pageTimeout, chromedp.Click(chromedp.ID("tl-prev")))
	tl.waitJS("the level change is shown", pageTimeout, `document.querySelector('#tl-changes .is-current')?.dataset.type === 'alert.details_updated'`)
	tl.do("step back to the level change", pageTimeout, chromedp.Click(chromedp.ID("tl-prev")))
	tl.waitJS("the level change is shown", pageTimeout,
		fmt.Sprintf(`document.querySelector('#tl-changes .is-current')?.dataset.type === 'alert.level_changed' && document.querySelector(%q) !== null && document.fonts.status === 'loaded'`,
			cardSel(target.ID)+`.is-changed`))
	tl.screenshot(filepath.Join(dir, "linea-de-tiempo.png"))
}
