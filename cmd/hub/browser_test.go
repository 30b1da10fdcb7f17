package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
)

// The browser tests drive Debian's Chromium, headless, through chromedp:
// real logins through the form, real WebSockets, real DOM. Each browser is
// its own Chromium process with its own profile, so cookies never mix.
//
// Without Chromium they skip loudly, or fail under HUB_INTEGRATION=required
// (CI installs it: apt-get install -y chromium).

const chromiumPath = "/usr/bin/chromium"

// Bounds on waiting for the page. They are generous for a loaded CI
// machine; a condition that is not met by then fails the test.
const (
	pageTimeout = 20 * time.Second
	liveTimeout = 10 * time.Second
)

func needChromium(t *testing.T) {
	t.Helper()
	required := os.Getenv("HUB_INTEGRATION") == "required"
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("\n\n**********\nSKIPPING BROWSER TEST: Chromium not found at %s (%v).\n"+
			"Install it with `apt-get install -y chromium`; set HUB_INTEGRATION=required to fail instead.\n**********\n", chromiumPath, err)
		if required {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if testing.Short() && !required {
		t.Skip("SKIPPING BROWSER TEST under -short")
	}
}

// browser is one headless Chromium with one tab.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts a Chromium with a fresh profile and a viewport of
// width×height; it is closed when the test ends (or by close).
func newBrowser(t *testing.T, name string, width, height int64) *browser {
	t.Helper()
	profile, err := os.MkdirTemp(t.TempDir(), "chromium-")
	if err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("lang", "es-CL"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(width), int(height)),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{t: t, name: name, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for Chromium to exit
		// Chromium's helpers may still be writing the profile for a moment.
		deadline := time.Now().Add(5 * time.Second)
		for os.RemoveAll(profile) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		b.checkConsole()
	})
	// The first action starts Chromium; it has no deadline, since a
	// deadline on it would bound the browser's whole life.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// checkConsole fails the test on an uncaught exception or a Content
// Security Policy violation in the page, and logs the rest.
func (b *browser) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		bad := m.IsException() || strings.Contains(m.Text, "Content Security Policy")
		if bad {
			b.t.Errorf("%s: page console: %s", b.name, m.String())
		} else if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
			b.t.Logf("%s: page console (expected HTTP errors are fine): %s", b.name, m.String())
		}
	}
}

// do runs actions, bounded by timeout; failing, it shows what the page said.
func (b *browser) do(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v\n--- page text ---\n%s", b.name, what, err, b.pageText())
	}
}

// waitJS waits until a JavaScript expression is truthy, bounded by timeout.
func (b *browser) waitJS(what string, timeout time.Duration, expr string) {
	b.t.Helper()
	b.do(what, timeout+time.Second, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// eval evaluates a JavaScript expression and decodes its value.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// text is the rendered text of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v\n--- page text ---\n%s", b.name, sel, err, b.pageText())
	}
	return strings.TrimSpace(s)
}

// pageText is the page's visible text, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

// login opens the app and logs in through the form.
func (b *browser) login(base, username, password string) {
	b.t.Helper()
	b.do("log in as "+username, pageTimeout,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.SendKeys(chromedp.ID("login-username"), username),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("user-name")),
	)
}

// screenshot saves the viewport as a PNG.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("%s: screenshot written to %s (%d bytes)", b.name, path, len(png))
}

type alertRow struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	Title     string `json:"title"`
	Version   int    `json:"version"`
	UpdatedBy string `json:"updated_by"`
}

func cardSel(id string) string { return fmt.Sprintf(`article[data-alert-id=%q]`, id) }

// TestBrowserLiveBoard: two operators in two browsers. One raises an alert
// to roja through the UI and the other sees it without reloading; then a
// stale save shows "otra persona modificó esta alerta" and reapplies; then a
// wall display with a token follows the alert live.
func TestBrowserLiveBoard(t *testing.T) {
	needChromium(t)
	m := startMain(t, t.TempDir())
	base := "http://" + m.Addr()
	admin := newClient(t, m.Addr(), testAdmin, testPassword)

	var alert alertRow
	if code, _, err := admin.call("POST", "/api/alerts", nil, `{"hazard":"incendio_forestal","level":"amarilla",`+
		`"title":"Alerta Amarilla por incendio forestal en Quilpué","description":"Incendio en sector El Retiro.","comunas":["05801"]}`, &alert); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	const operatorPassword = "una clave de operadora"
	if code, _, err := admin.call("POST", "/api/users", nil,
		`{"username":"mjara","display_name":"María Jara","role":"operator","password":"`+operatorPassword+`"}`, nil); err != nil || code != 201 {
		t.Fatalf("create operator: %d %v", code, err)
	}
	card := cardSel(alert.ID)

	a := newBrowser(t, "A (mjara)", 1400, 900)
	b := newBrowser(t, "B (admin)", 1400, 900)
	a.login(base, "mjara", operatorPassword)
	b.login(base, testAdmin, testPassword)
	for _, br := range []*browser{a, b} {
		br.do("see the alert and go live", pageTimeout,
			chromedp.WaitVisible(chromedp.CSS(card+`[data-level="amarilla"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))
	}
	if got := a.text("#user-name"); got != "María Jara" {
		t.Fatalf("A's header shows %q, want the display name María Jara", got)
	}
	if got := a.text(card + " .alert-meta"); !strings.Contains(got, "Comuna de Quilpué") {
		t.Fatalf("card scope %q, want the comuna's name", got)
	}
	// A reload would lose this mark: B must get the change live.
	evalJS[chromedp.Void](b, `window.vigiaTestMark = 'sin recargar'`)

	t.Run("an edit in one browser reaches the other live", func(t *testing.T) {
		a.do("raise the alert to roja", pageTimeout,
			chromedp.Click(chromedp.CSS(card+` [data-action="edit"]`)),
			chromedp.WaitVisible(chromedp.ID("edit-form")),
			chromedp.Click(chromedp.ID("edit-level-roja")),
			chromedp.SendKeys(chromedp.ID("edit-reason"), "Propagación hacia zona urbana"),
			chromedp.Click(chromedp.ID("edit-save")),
			chromedp.WaitNotPresent(chromedp.ID("edit-dialog")),
			chromedp.WaitVisible(chromedp.CSS(card+`[data-level="roja"]`)))
		b.waitJS("B shows roja without reloading", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null`, card+`[data-level="roja"]`))
		if mark := evalJS[string](b, `window.vigiaTestMark || ''`); mark != "sin recargar" {
			t.Fatalf("B's page was reloaded (mark %q)", mark)
		}
		if got := b.text(card + " .level-badge"); !strings.EqualFold(got, "Alerta Roja") {
			t.Fatalf("B's badge says %q, want Alerta Roja", got)
		}
		if got := b.text(card + " .updated-by"); got != "mjara" {
			t.Fatalf("B shows updated by %q, want mjara", got)
		}
	})

	t.Run("a novedad written in one browser appears in the other", func(t *testing.T) {
		const text = "Bomberos de Quilpué confirma evacuación preventiva del sector El Retiro."
		a.do("write a novedad", pageTimeout,
			chromedp.SendKeys(chromedp.ID("log-text"), text),
			chromedp.SetValue(chromedp.ID("log-category"), "incidente"),
			chromedp.Click(chromedp.ID("log-submit")))
		for _, br := range []*browser{a, b} {
			br.waitJS("the novedad is listed", liveTimeout,
				fmt.Sprintf(`[...document.querySelectorAll('#log-list .log-entry')].some((li) => li.textContent.includes(%q) && li.textContent.includes('Incidente') && li.textContent.includes('mjara'))`, text))
		}
		if got := evalJS[string](a, `document.getElementById('log-text').value`); got != "" {
			t.Fatalf("the form kept %q after registering", got)
		}
	})

	t.Run("a stale save shows what changed and reapplies", func(t *testing.T) {
		const newTitle = "Alerta por incendio forestal en Quilpué y Villa Alemana"
		// B opens the form on the current version and changes the title…
		b.do("open the edit form", pageTimeout,
			chromedp.Click(chromedp.CSS(card+` [data-action="edit"]`)),
			chromedp.WaitVisible(chromedp.ID("edit-form")),
			chromedp.SetValue(chromedp.ID("edit-title"), newTitle))
		// …while A lowers the level to amarilla.
		a.do("lower the alert to amarilla", pageTimeout,
			chromedp.Click(chromedp.CSS(card+` [data-action="edit"]`)),
			chromedp.WaitVisible(chromedp.ID("edit-form")),
			chromedp.Click(chromedp.ID("edit-level-amarilla")),
			chromedp.Click(chromedp.ID("edit-save")),
			chromedp.WaitNotPresent(chromedp.ID("edit-dialog")))
		b.waitJS("B's board follows A while the form stays open", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null && document.getElementById('edit-dialog') !== null`, card+`[data-level="amarilla"]`))

		b.do("save on the old version", pageTimeout, chromedp.Click(chromedp.ID("edit-save")))
		b.waitJS("B is told someone else changed the alert", liveTimeout,
			`(document.getElementById('edit-conflict')?.textContent || '').includes('otra persona modificó esta alerta')`)
		conflict := b.text("#edit-conflict")
		for _, want := range []string{"mjara", "Nivel", "Alerta Roja", "Alerta Amarilla", "Reaplicar mis cambios"} {
			if !strings.Contains(conflict, want) {
				t.Fatalf("conflict panel %q does not mention %q", conflict, want)
			}
		}
		b.do("reapply", pageTimeout,
			chromedp.Click(chromedp.ID("edit-reapply")),
			chromedp.WaitNotPresent(chromedp.ID("edit-dialog")))
		for _, br := range []*browser{a, b} {
			br.waitJS("both boards show both changes", liveTimeout,
				fmt.Sprintf(`(document.querySelector(%q)?.textContent || '') === %q`, card+`[data-level="amarilla"] .alert-title`, newTitle))
		}
		// Nothing was lost: the title is B's, the level A's.
		var got alertRow
		if code, _, err := admin.call("GET", "/api/alerts/"+alert.ID, nil, "", &got); err != nil || code != 200 {
			t.Fatalf("get: %d %v", code, err)
		}
		if got.Title != newTitle || got.Level != "amarilla" || got.UpdatedBy != testAdmin {
			t.Fatalf("got %+v, want B's title, A's level, updated by %s", got, testAdmin)
		}
	})

	t.Run("the wall display follows the alert live", func(t *testing.T) {
		var tok struct {
			Token string `json:"token"`
		}
		if code, _, err := admin.call("POST", "/api/tokens", nil, `{"name":"sala-de-crisis","role":"display"}`, &tok); err != nil || code != 201 || tok.Token == "" {
			t.Fatalf("create display token: %d %v", code, err)
		}
		d := newBrowser(t, "pantalla", 1920, 1080)
		d.do("show the display", pageTimeout,
			chromedp.Navigate(base+"/display?token="+url.QueryEscape(tok.Token)),
			chromedp.WaitVisible(chromedp.CSS(card+`[data-level="amarilla"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))
		if clock := d.text("#wall-clock"); !regexp.MustCompile(`^\d{2}:\d{2}:\d{2}$`).MatchString(clock) {
			t.Fatalf("clock shows %q", clock)
		}
		if last := d.text("#last-update"); !regexp.MustCompile(`\d{2}:\d{2}:\d{2}`).MatchString(last) {
			t.Fatalf("last update shows %q", last)
		}

		var cur alertRow
		if code, _, err := admin.call("GET", "/api/alerts/"+alert.ID, nil, "", &cur); err != nil || code != 200 {
			t.Fatalf("get: %d %v", code, err)
		}
		if code, _, err := admin.call("PATCH", "/api/alerts/"+alert.ID, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, cur.Version)}, `{"level":"roja"}`, nil); err != nil || code != 200 {
			t.Fatalf("patch: %d %v", code, err)
		}
		d.waitJS("the display turns red without reloading", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null`, card+`[data-level="roja"]`))
		if got := d.text(card + " .wall-level"); !strings.EqualFold(got, "Alerta Roja") {
			t.Fatalf("display level %q", got)
		}

		// A comuna filter is passed through: Valparaíso only hides the
		// Quilpué alert, and a new one in Valparaíso arrives live.
		d.do("filter on Valparaíso", pageTimeout,
			chromedp.Navigate(base+"/display?token="+url.QueryEscape(tok.Token)+"&comunas=05101"),
			chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.wall-empty`)))
		var other alertRow
		if code, _, err := admin.call("POST", "/api/alerts", nil, `{"hazard":"marejadas","level":"temprana_preventiva","title":"Marejadas en Valparaíso","comunas":["05101"]}`, &other); err != nil || code != 201 {
			t.Fatalf("declare: %d %v", code, err)
		}
		d.waitJS("the filtered display shows the new alert", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null && document.querySelector(%q) === null`, cardSel(other.ID), card))

		d.do("a display without a token explains itself", pageTimeout,
			chromedp.Navigate(base+"/display"),
			chromedp.WaitVisible(chromedp.ID("no-token")))
		if help := d.text("#no-token"); !strings.Contains(help, "hub token create") || !strings.Contains(help, "--role display") {
			t.Fatalf("no-token page says %q", help)
		}
	})

	t.Run("cancelling removes the alert from every board", func(t *testing.T) {
		b.do("cancel the alert", pageTimeout,
			chromedp.Click(chromedp.CSS(card+` [data-action="cancel"]`)),
			chromedp.WaitVisible(chromedp.ID("cancel-form")),
			chromedp.SendKeys(chromedp.ID("cancel-reason"), "Incendio controlado por CONAF"),
			chromedp.Click(chromedp.ID("cancel-confirm")),
			chromedp.WaitNotPresent(chromedp.ID("cancel-dialog")))
		for _, br := range []*browser{a, b} {
			br.waitJS("the alert leaves the board", liveTimeout,
				fmt.Sprintf(`document.querySelector(%q) === null`, card))
		}
	})
}

// TestBrowserLoginErrors: a wrong password is refused with the server's
// Spanish problem detail, next to a form that stays usable.
func TestBrowserLoginErrors(t *testing.T) {
	needChromium(t)
	m := startMain(t, t.TempDir())
	b := newBrowser(t, "login", 1200, 800)
	b.do("submit a wrong password", pageTimeout,
		chromedp.Navigate("http://"+m.Addr()+"/"),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#login-username[aria-invalid="true"]`)),
		chromedp.SendKeys(chromedp.ID("login-username"), testAdmin),
		chromedp.SendKeys(chromedp.ID("login-password"), "no es la clave"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("login-banner")))
	if got := b.text("#login-banner"); !strings.Contains(got, "Usuario o contraseña incorrectos") {
		t.Fatalf("banner says %q", got)
	}
	lang := evalJS[string](b, `document.documentElement.lang`)
	if lang != "es-CL" {
		t.Fatalf("lang %q", lang)
	}
}

// openHub runs a hub as startMain does, but on a given address (":0" for
// any) and optionally with the demo data; stop closes it and may be called
// more than once, so a test can restart a hub on the same port and data.
func openHub(t *testing.T, dir, addr string, demo bool) (m *Main, stop func()) {
	t.Helper()
	m = NewMain()
	m.Config.Addr, m.Config.DataDir, m.Config.Demo = addr, dir, demo
	m.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
	m.PasswordParams = auth.TestParams
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := m.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// TestBrowserReconnectsAfterRestart: the board notices a hub restart
// ("Reconectando…"), comes back by itself with since=<position>, and then
// follows alerts, shifts and novedades live again, without a reload.
func TestBrowserReconnectsAfterRestart(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	m, stop := openHub(t, dir, "127.0.0.1:0", false)
	addr := m.Addr()
	admin := newClient(t, addr, testAdmin, testPassword)
	var alert alertRow
	if code, _, err := admin.call("POST", "/api/alerts", nil, `{"hazard":"viento","level":"temprana_preventiva","title":"Viento en sectores altos","region":true}`, &alert); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	card := cardSel(alert.ID)
	b := newBrowser(t, "tablero", 1400, 900)
	b.login("http://"+addr, testAdmin, testPassword)
	b.do("go live", pageTimeout,
		chromedp.WaitVisible(chromedp.CSS(card)),
		chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))
	evalJS[chromedp.Void](b, `window.vigiaTestMark = 'sin recargar'`)

	stop()
	b.waitJS("the board says it is reconnecting", liveTimeout,
		`document.getElementById('connection').dataset.state === 'reconnecting' && document.getElementById('connection').textContent === 'Reconectando…'`)

	// Same port, same data: sessions and the log survive the restart.
	m2, _ := openHub(t, dir, addr, false)
	admin = newClient(t, m2.Addr(), testAdmin, testPassword)
	b.waitJS("the board is live again", 3*liveTimeout, `document.getElementById('connection').dataset.state === 'live'`)

	if code, _, err := admin.call("PATCH", "/api/alerts/"+alert.ID, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, alert.Version)}, `{"level":"amarilla","reason":"Rachas de 90 km/h"}`, nil); err != nil || code != 200 {
		t.Fatalf("patch: %d %v", code, err)
	}
	if code, _, err := admin.call("PUT", "/api/shifts/"+time.Now().In(mustSantiago(t)).Format(time.DateOnly)+"/noche", map[string]string{"If-None-Match": "*"},
		`{"start":"20:00","end":"08:00","lead":"Felipe Contreras","operators":["Javiera Pérez"]}`, nil); err != nil || code != 201 {
		t.Fatalf("put shift: %d %v", code, err)
	}
	if code, _, err := admin.call("POST", "/api/log", nil, `{"text":"Hub reiniciado; el tablero se reconecta solo.","category":"sistema"}`, nil); err != nil || code != 201 {
		t.Fatalf("log: %d %v", code, err)
	}
	b.waitJS("alert, shift and novedad arrive live after the restart", liveTimeout,
		fmt.Sprintf(`document.querySelector(%q) !== null && `, card+`[data-level="amarilla"]`)+
			`document.querySelector('#shift-list [data-slot="noche"]') !== null && `+
			`document.getElementById('log-list').textContent.includes('el tablero se reconecta solo')`)
	if mark := evalJS[string](b, `window.vigiaTestMark || ''`); mark != "sin recargar" {
		t.Fatalf("the board was reloaded (mark %q)", mark)
	}
}

func mustSantiago(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestBrowserScreenshots renders the board and the wall display on the demo
// data (board 1600×900, display 1920×1080). With HUB_SCREENSHOTS=1 it saves
// them to docs/screenshots (make screenshots); otherwise to a temporary
// directory, so a test run leaves the work tree as it was.
func TestBrowserScreenshots(t *testing.T) {
	needChromium(t)
	m, _ := openHub(t, t.TempDir(), "127.0.0.1:0", true)
	base := "http://" + m.Addr()
	dir := t.TempDir()
	if os.Getenv("HUB_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	admin := newClient(t, m.Addr(), testAdmin, testPassword)
	var list struct {
		Alerts []alertRow `json:"alerts"`
	}
	if code, _, err := admin.call("GET", "/api/alerts", nil, "", &list); err != nil || code != 200 || len(list.Alerts) == 0 {
		t.Fatalf("demo alerts: %d %v %d", code, err, len(list.Alerts))
	}
	ready := fmt.Sprintf(`document.querySelectorAll('#alert-list article').length === %d && `+
		`document.querySelectorAll('#shift-list li').length > 0 && document.querySelectorAll('#log-list li').length > 0 && `+
		`document.querySelector('#connection')?.dataset.state === 'live' && document.fonts.status === 'loaded'`, len(list.Alerts))

	board := newBrowser(t, "tablero", 1600, 900)
	board.login(base, demoUsers[0].username, demoUsers[0].password)
	board.waitJS("the board is complete and live", pageTimeout, ready)
	board.screenshot(filepath.Join(dir, "board.png"))

	var tok struct {
		Token string `json:"token"`
	}
	if code, _, err := admin.call("POST", "/api/tokens", nil, `{"name":"capturas","role":"display"}`, &tok); err != nil || code != 201 {
		t.Fatalf("token: %d %v", code, err)
	}
	display := newBrowser(t, "pantalla", 1920, 1080)
	display.do("open the display", pageTimeout, chromedp.Navigate(base+"/display?token="+url.QueryEscape(tok.Token)))
	display.waitJS("the display is complete and live", pageTimeout, ready)
	display.screenshot(filepath.Join(dir, "display.png"))
}
