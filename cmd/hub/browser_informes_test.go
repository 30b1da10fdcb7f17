package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The Informes page in a real browser: an operator uploads the PM sample
// through the page's file input (what the drop zone and "Elegir archivo…"
// both feed), follows its job to "Listo", reads the day's PM edition laid
// out as the document's sections, and another operator's board is told
// that the informe arrived. Same helpers and rules as browser_test.go.

// uploadWait bounds reading an informe: the parse job runs on a machine
// shared with other tests.
const uploadWait = 60 * time.Second

// samplePath is the absolute path of a sample informe, as Chromium needs it.
func samplePath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(informesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample informe: %v (shared/ sits beside the repository)", err)
	}
	return p
}

// jobDone is a JavaScript condition: the job list shows a job of file name
// as done, labelled Listo.
func jobDone(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#inf-jobs .job')].some((li) => li.dataset.status === 'done' && `+
		`li.querySelector('.job-status')?.textContent === 'Listo' && li.querySelector('.job-name')?.textContent === %q)`, name)
}

// TestBrowserInformes: an operator uploads the PM informe of 11-06-2025 on
// /informes, sees its job reach "Listo" and the day's PM edition with the
// document's sections (an aviso of the sample among them), and a second
// operator's board shows "Llegó el informe PM del 11-06-2025" live. The
// same file again is recognised; a file that is not a .docx is refused in
// Spanish. Then one "missing" reconciliation item is accepted and the new
// alert reaches the second operator's board live, and another is
// dismissed with a reason given in the dialog; an alert declared at the
// wrong level shows up as a difference without a reload, and accepting it
// raises the alert on the other board. The línea de tiempo of that day
// shows the informe's sections too.
func TestBrowserInformes(t *testing.T) {
	needChromium(t)
	sample := samplePath(t, samplePM)
	m := startMain(t, t.TempDir())
	base := "http://" + m.Addr()
	admin := newClient(t, m.Addr(), testAdmin, testPassword)
	const password = "una clave larga de prueba"
	for _, u := range []struct{ name, display, role string }{
		{"mjara", "María Jara", "operator"},
		{"pvera", "Pedro Vera", "operator"},
	} {
		mustCall(t, admin, 201, "POST", "/api/users", nil,
			fmt.Sprintf(`{"username":%q,"display_name":%q,"role":%q,"password":%q}`, u.name, u.display, u.role, password), nil)
	}

	a := newBrowser(t, "A (mjara)", 1500, 1000)
	b := newBrowser(t, "B (pvera)", 1400, 900)
	b.login(base, "pvera", password)
	b.do("B's board goes live", pageTimeout, chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))
	evalJS[chromedp.Void](b, `window.vigiaTestMark = 'sin recargar'`)
	a.login(base, "mjara", password)
	a.do("open Informes from the navigation", pageTimeout,
		chromedp.Click(chromedp.ID("nav-informes")),
		chromedp.WaitVisible(chromedp.ID("inf-dropzone")),
		chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))
	if got := a.text(`#nav-informes[aria-current="page"]`); got != "Informes" {
		t.Fatalf("current nav link %q", got)
	}

	t.Run("an uploaded informe is read live and its day shows the document's sections", func(t *testing.T) {
		a.do("choose the PM sample", pageTimeout, chromedp.SetUploadFiles(chromedp.ID("inf-file"), []string{sample}))
		a.waitJS("the job reaches Listo", uploadWait, jobDone(samplePM))
		a.waitJS("the informe's day is shown with its PM edition", pageTimeout,
			`new URLSearchParams(location.search).get('date') === '2025-06-11' && document.getElementById('inf-date').value === '2025-06-11' && `+
				`document.querySelector('#inf-editions .edition[data-edition="PM"] .doc-avisos') !== null`)
		// Read in one go: a notice may re-render the day in between queries.
		edition := evalJS[string](a, `document.querySelector('#inf-editions .edition[data-edition="PM"]').innerText`)
		for _, want := range []string{
			"Edición PM", "18:45", "Carga manual", samplePM,
			"1. Resumen de alertas vigentes", "2. Emergencias de las últimas 24 horas", "Sin emergencias informadas.",
			"4. Avisos, alertas y alarmas meteorológicas", "Aviso A204-2/2025", "Precipitaciones normales a moderadas",
			"6. Índice de radiación ultravioleta", "7. Datos hidrométricos", "Río Aconcagua en Chacabuquito", "1,15 m",
			"8. Estado de carreteras", "9. Estado de puertos", "Hanga Roa", "11. Pasos fronterizos",
		} {
			if !strings.Contains(edition, want) {
				t.Errorf("the PM edition does not show %q", want)
			}
		}
		if t.Failed() {
			t.Fatalf("edition text:\n%s", edition)
		}
		if got := a.text("#inf-upload-status"); !strings.Contains(got, "leído: informe PM del 11-06-2025") {
			t.Fatalf("upload status says %q", got)
		}
		if n := evalJS[int](a, `document.querySelectorAll('#inf-editions .edition').length`); n != 1 {
			t.Fatalf("%d editions shown, want 1", n)
		}

		b.waitJS("B's board says the informe arrived", liveTimeout,
			`!document.getElementById('informe-banner').hidden && document.getElementById('informe-banner').textContent.includes('Llegó el informe PM del 11-06-2025')`)
		if href := evalJS[string](b, `document.getElementById('informe-banner-link').getAttribute('href')`); href != "/informes?date=2025-06-11" {
			t.Fatalf("banner links to %q", href)
		}
		if mark := evalJS[string](b, `window.vigiaTestMark || ''`); mark != "sin recargar" {
			t.Fatalf("B's page was reloaded (mark %q)", mark)
		}
		b.do("dismiss the banner", pageTimeout, chromedp.Click(chromedp.ID("informe-banner-close")))
		b.waitJS("the banner is gone", liveTimeout, `document.getElementById('informe-banner').hidden`)
	})

	t.Run("the same file again is recognised", func(t *testing.T) {
		a.do("choose the PM sample again", pageTimeout, chromedp.SetUploadFiles(chromedp.ID("inf-file"), []string{sample}))
		a.waitJS("the page says it was already received", pageTimeout,
			`(document.getElementById('inf-upload-status')?.textContent || '').includes('Este archivo ya se había recibido')`)
		if n := evalJS[int](a, `document.querySelectorAll('#inf-jobs .job').length`); n != 1 {
			t.Fatalf("%d jobs listed after a duplicate, want 1", n)
		}
	})

	t.Run("a file that is not a .docx is refused in Spanish", func(t *testing.T) {
		notes := filepath.Join(t.TempDir(), "notas del turno.txt")
		if err := os.WriteFile(notes, []byte("no es un informe"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.do("choose a text file", pageTimeout, chromedp.SetUploadFiles(chromedp.ID("inf-file"), []string{notes}))
		a.waitJS("the page refuses it", pageTimeout,
			`(document.getElementById('inf-upload-status')?.textContent || '').includes('«notas del turno.txt» no es un archivo .docx')`)
	})

	t.Run("a .docx that cannot be read fails with the hub's reason", func(t *testing.T) {
		broken := filepath.Join(t.TempDir(), "informe roto.docx")
		if err := os.WriteFile(broken, []byte("esto no es un documento de Word"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.do("choose a broken .docx", pageTimeout, chromedp.SetUploadFiles(chromedp.ID("inf-file"), []string{broken}))
		a.waitJS("its job fails with a title and a detail", uploadWait,
			`[...document.querySelectorAll('#inf-jobs .job')].some((li) => li.dataset.status === 'failed' && `+
				`li.querySelector('.job-status')?.textContent === 'Falló' && li.querySelector('.job-name')?.textContent === 'informe roto.docx' && `+
				`(li.querySelector('.job-error-title')?.textContent || '') !== '')`)
		a.waitJS("the upload's line says it could not be read", liveTimeout,
			`(document.getElementById('inf-upload-status')?.textContent || '').includes('«informe roto.docx» no se pudo leer')`)
		// The day shown stays the informe's.
		if d := evalJS[string](a, `document.getElementById('inf-date').value`); d != "2025-06-11" {
			t.Fatalf("day shown %q after a failed job", d)
		}
	})

	t.Run("accepting a missing reconciliation item declares the alert on another operator's board", func(t *testing.T) {
		acceptMissing(t, a, b)
	})

	t.Run("dismissing an item asks for a reason and shows it", func(t *testing.T) {
		dismissOne(t, a)
	})

	t.Run("a level difference appears live and accepting it raises the alert on another board", func(t *testing.T) {
		// Someone declares the Los Andes alert the informe lists as Amarilla, but as Temprana Preventiva.
		var declared alertRow
		mustCall(t, admin, 201, "POST", "/api/alerts", nil,
			`{"hazard":"alteracion_sanitaria","level":"temprana_preventiva","provincias":["053"],"title":"Alerta sanitaria Los Andes"}`, &declared)
		b.waitJS("B's board shows the new alert", liveTimeout, fmt.Sprintf(`document.querySelector(%q) !== null`, cardSel(declared.ID)+`[data-level="temprana_preventiva"]`))
		sel := `#rc-list .rc-item[data-kind="level"][data-status="open"]`
		a.waitJS("the Informes page lists the level difference without a reload", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null && document.querySelector(%q).textContent.includes('Nivel distinto')`, sel+` [data-action="accept"]`, sel))
		a.do("accept it", pageTimeout, chromedp.Click(chromedp.CSS(sel+` [data-action="accept"]`)))
		b.waitJS("B's board shows the alert raised to amarilla", liveTimeout,
			fmt.Sprintf(`document.querySelector(%q) !== null`, cardSel(declared.ID)+`[data-level="amarilla"]`))
		a.waitJS("the item is accepted", liveTimeout,
			`document.querySelector('#rc-list .rc-item[data-kind="level"]')?.dataset.status === 'accepted'`)
	})

	t.Run("the línea de tiempo shows the informe's sections", func(t *testing.T) {
		// The informe of 11-06-2025 was recorded today: the day as of now has it.
		at := time.Now().UTC().Format(time.RFC3339)
		a.do("open the day in the línea de tiempo", pageTimeout,
			chromedp.Navigate(base+"/linea-de-tiempo?"+url.Values{"date": {"2025-06-11"}, "at": {at}}.Encode()),
			chromedp.WaitReady(chromedp.ID("tl-doc")))
		doc := evalJS[string](a, `document.getElementById('tl-doc').textContent`)
		for _, want := range []string{"Secciones del informe PM de las 18:45", "4. Avisos, alertas y alarmas meteorológicas", "Aviso A204-2/2025", "11. Pasos fronterizos"} {
			if !strings.Contains(doc, want) {
				t.Errorf("the línea de tiempo's informe does not show %q:\n%s", want, doc)
			}
		}
	})
}

// acceptMissing accepts the first open "missing" item of the day shown on
// a's Informes page and waits for the alert it declares on b's board.
func acceptMissing(t *testing.T, a, b *browser) {
	t.Helper()
	a.waitJS("the reconciliation lists a missing alert", pageTimeout,
		`document.querySelector('#rc-list .rc-item[data-kind="missing"][data-status="open"] [data-action="accept"]') !== null`)
	item := evalJS[string](a, `document.querySelector('#rc-list .rc-item[data-kind="missing"][data-status="open"]').dataset.itemId`)
	sel := fmt.Sprintf(`#rc-list .rc-item[data-item-id=%q]`, item)
	if got := evalJS[string](a, fmt.Sprintf(`document.querySelector(%q)?.textContent || ''`, sel+" .rc-kind")); got != "Falta en el tablero" {
		t.Fatalf("kind label %q", got)
	}
	before := evalJS[int](b, `document.querySelectorAll('#alert-list article').length`)
	a.do("accept it", pageTimeout, chromedp.Click(chromedp.CSS(sel+` [data-action="accept"]`)))
	a.waitJS("the item is accepted", liveTimeout,
		fmt.Sprintf(`document.querySelector(%q)?.dataset.status === 'accepted' && document.querySelector(%q).textContent.includes('Aceptada por mjara')`, sel, sel))
	b.waitJS("the new alert reaches B's board live", liveTimeout,
		fmt.Sprintf(`document.querySelectorAll('#alert-list article').length === %d`, before+1))
	if mark := evalJS[string](b, `window.vigiaTestMark || ''`); mark != "sin recargar" {
		t.Fatalf("B's page was reloaded (mark %q)", mark)
	}
}

// dismissOne dismisses the first open item of the day shown on a's
// Informes page through the dialog, which first insists on a reason.
func dismissOne(t *testing.T, a *browser) {
	t.Helper()
	item := evalJS[string](a, `document.querySelector('#rc-list .rc-item[data-status="open"]')?.dataset.itemId || ''`)
	if item == "" {
		t.Fatal("no open item left to dismiss")
	}
	sel := fmt.Sprintf(`#rc-list .rc-item[data-item-id=%q]`, item)
	const reason = "La alerta sanitaria ya fue cancelada por resolución"
	a.do("dismiss without a reason", pageTimeout,
		chromedp.Click(chromedp.CSS(sel+` [data-action="dismiss"]`)),
		chromedp.WaitVisible(chromedp.ID("rc-dismiss-form")),
		chromedp.Click(chromedp.ID("rc-dismiss-confirm")),
		chromedp.WaitVisible(chromedp.CSS(`#rc-dismiss-reason[aria-invalid="true"]`)))
	a.do("give a reason", pageTimeout,
		chromedp.SendKeys(chromedp.ID("rc-dismiss-reason"), reason),
		chromedp.Click(chromedp.ID("rc-dismiss-confirm")),
		chromedp.WaitNotPresent(chromedp.ID("rc-dismiss-dialog")))
	a.waitJS("the item is dismissed with its reason", liveTimeout,
		fmt.Sprintf(`document.querySelector(%q)?.dataset.status === 'dismissed' && document.querySelector(%q).textContent.includes(%q)`, sel, sel, reason))
	if got := evalJS[string](a, fmt.Sprintf(`document.querySelector(%q)?.textContent || ''`, sel+" .rc-status")); got != "Descartada" {
		t.Fatalf("status label %q", got)
	}
}

// TestBrowserScreenshotsInformes renders the Informes page (1600×1000)
// after the PM sample was uploaded through it, and the wall display
// (1920×1080) with that informe's panel under the demo alerts. With
// HUB_SCREENSHOTS=1 (make screenshots) it saves them to docs/screenshots;
// otherwise to a temporary directory.
func TestBrowserScreenshotsInformes(t *testing.T) {
	needChromium(t)
	sample := samplePath(t, samplePM)
	m, _ := openHub(t, t.TempDir(), "127.0.0.1:0", true)
	base := "http://" + m.Addr()
	dir := t.TempDir()
	if os.Getenv("HUB_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	admin := newClient(t, m.Addr(), testAdmin, testPassword)
	var tok struct {
		Token string `json:"token"`
	}
	mustCall(t, admin, 201, "POST", "/api/tokens", nil, `{"name":"capturas","role":"display"}`, &tok)
	display := newBrowser(t, "pantalla", 1920, 1080)
	display.do("open the display", pageTimeout,
		chromedp.Navigate(base+"/display?token="+url.QueryEscape(tok.Token)),
		chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)))

	page := newBrowser(t, "informes", 1600, 1000)
	page.login(base, demoUsers[0].username, demoUsers[0].password)
	page.do("open Informes", pageTimeout,
		chromedp.Navigate(base+"/informes"),
		chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="live"]`)),
		chromedp.SetUploadFiles(chromedp.ID("inf-file"), []string{sample}))
	page.waitJS("the informe is read and shown", uploadWait, jobDone(samplePM)+
		` && document.querySelector('#inf-editions .edition[data-edition="PM"] .doc-avisos') !== null && document.getElementById('rc-list').getAttribute('aria-busy') === null && document.fonts.status === 'loaded'`)
	page.screenshot(filepath.Join(dir, "informes.png"))

	display.waitJS("the display shows the informe under the alerts", liveTimeout,
		`document.querySelector('#wall-informe-body')?.dataset.edition === 'PM' && document.querySelectorAll('#wall-informe [data-section]').length === 4 && document.fonts.status === 'loaded'`)
	display.screenshot(filepath.Join(dir, "display-informe.png"))
}
