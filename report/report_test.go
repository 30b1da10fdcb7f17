package report

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

func santiagoTB(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		tb.Fatalf("load America/Santiago: %v", err)
	}
	return loc
}

// fullInforme is a representative day: every level, several hazards,
// regional, provincial and comuna alerts, accents and ñ, shifts, a header,
// and enough novedades to need several pages.
func fullInforme(tb testing.TB) projections.InformeView {
	tb.Helper()
	loc := santiagoTB(tb)
	at := func(h, m int) time.Time { return time.Date(2026, 2, 12, h, m, 0, 0, loc) }
	v := projections.InformeView{
		Date:     "2026-02-12",
		AsOf:     time.Date(2026, 2, 12, 23, 59, 59, 0, loc),
		Position: eventstore.Seq(12345),
		Header: &domain.InformeHeader{
			Date: "2026-02-12", Number: "043", Title: "Informe de situación regional — mañana",
			Source: "Dirección Regional SENAPRED Valparaíso", IssuedAt: at(7, 30),
			Summary: "Se mantienen las alertas por incendios forestales en la provincia de Quillota.\n¿Cuál es el pronóstico? ¡Calor extremo en el interior!",
		},
		Alerts: []projections.AlertView{
			{ID: "a1", Hazard: string(domain.HazardIncendioForestal), Level: string(domain.LevelRoja), Status: "vigente",
				Comunas: []string{"05109", "05103"}, Provincias: []string{},
				Title: "Incendio forestal «Las Palmas»: evacuación en Viña del Mar", Description: "Evacuación preventiva de sectores altos. Brigadas de CONAF y Bomberos trabajan en el lugar.",
				DeclaredAt: at(14, 5), UpdatedAt: at(16, 40), UpdatedBy: "mmuñoz", Resolution: "Res. Ex. N° 1234"},
			{ID: "a2", Hazard: string(domain.HazardMarejadas), Level: string(domain.LevelRoja), Status: "vigente",
				Comunas: []string{"05104"}, Provincias: []string{},
				Title: "Marejadas anormales en el archipiélago", Description: "Cierre de caletas y playas.",
				DeclaredAt: at(9, 0), UpdatedAt: at(9, 0), UpdatedBy: "jpérez"},
			{ID: "a3", Hazard: string(domain.HazardCalorExtremo), Level: string(domain.LevelAmarilla), Status: "vigente",
				Provincias: []string{"055", "058"}, Comunas: []string{},
				Title: "Calor extremo en valles interiores", Description: "Temperaturas sobre 36 °C.",
				DeclaredAt: at(8, 0), UpdatedAt: at(10, 15), UpdatedBy: "aguzmán"},
			{ID: "a4", Hazard: string(domain.HazardIncendioForestal), Level: string(domain.LevelTempranaPreventiva), Status: "vigente",
				Region: true, Provincias: []string{}, Comunas: []string{},
				Title: "Temporada de incendios forestales — niñas, niños y pingüinos", Description: "Alerta temprana preventiva regional vigente durante toda la temporada.",
				DeclaredAt: time.Date(2025, 11, 1, 9, 0, 0, 0, loc), UpdatedAt: time.Date(2025, 11, 1, 9, 0, 0, 0, loc), UpdatedBy: "admin"},
			{ID: "a5", Hazard: string(domain.HazardSistemaFrontal), Level: string(domain.LevelAmarilla), Status: "vigente",
				Comunas: []string{"05301", "05101"}, Provincias: []string{"054"},
				Title: "Sistema frontal: precipitaciones en cordillera", Description: "",
				DeclaredAt: at(6, 0), UpdatedAt: at(6, 0), UpdatedBy: "admin"},
		},
		Shifts: []projections.ShiftView{
			{Date: "2026-02-12", Shift: domain.Shift{Slot: "dia", Start: "08:00", End: "20:00", Lead: "Sofía Núñez", Operators: []string{"Iñaki Peña", "José Ibáñez"}, Notes: "Refuerzo por incendio «Las Palmas»."}},
			{Date: "2026-02-12", Shift: domain.Shift{Slot: "noche", Start: "20:00", End: "08:00", Lead: "Martín Güemes", Operators: []string{"Ana Muñoz"}}},
			{Date: "2026-02-12", Shift: domain.Shift{Slot: "enlace-regional", Start: "09:00", End: "18:00", Lead: "Rocío Lagos"}},
		},
	}
	comunas := [][]string{{"05109"}, {"05103", "05104"}, nil, {"05501"}}
	cats := domain.Categories
	for i := 0; i < 64; i++ {
		e := domain.LogEntry{
			ID: fmt.Sprintf("e%02d", i), Date: v.Date, Category: cats[i%len(cats)],
			Text:    fmt.Sprintf("Novedad número %d: se informa situación en terreno, coordinación con municipio y Carabineros; sin lesionados. Señalética instalada.", i+1),
			Comunas: comunas[i%len(comunas)], By: "operador" + strconv.Itoa(i%3), At: at(0, 0).Add(time.Duration(i) * 20 * time.Minute), Version: 1,
		}
		if i == 5 {
			e.Corrected, e.CorrectedBy, e.CorrectedAt, e.Reason, e.Version = true, "jefe.turno", at(3, 10), "cifra de evacuados errónea", 2
		}
		v.Log = append(v.Log, projections.LogEntryView{LogEntry: e})
	}
	return v
}

func render(tb testing.TB, v projections.InformeView) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, v, santiagoTB(tb)); err != nil {
		tb.Fatalf("WritePDF: %v", err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		tb.Fatalf("output does not start with %%PDF-: %q", buf.Bytes()[:min(16, buf.Len())])
	}
	if !bytes.Contains(buf.Bytes()[max(0, buf.Len()-64):], []byte("%%EOF")) {
		tb.Fatalf("output does not end with %s", "%%EOF")
	}
	return buf.Bytes()
}

// pdfText extracts the text of a PDF with poppler's pdftotext. Without the
// tool the test is skipped loudly, or fails under HUB_INTEGRATION=required.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		msg := "pdftotext (Debian poppler-utils) is not installed: the PDF's text is NOT checked; apt-get install poppler-utils"
		if os.Getenv("HUB_INTEGRATION") == "required" {
			t.Fatal(msg)
		}
		t.Skip("SKIP: " + msg)
	}
	path := filepath.Join(t.TempDir(), "informe.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

var wordBox = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)

// checkInside fails when a word of the PDF lies outside the printable
// area: beyond the side margins, above the page header, or between the
// body's bottom and the footer.
func checkInside(t *testing.T, pdf []byte) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		pdfText(t, pdf) // skips or fails loudly
		return
	}
	path := filepath.Join(t.TempDir(), "informe.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-bbox", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v\n%s", err, out)
	}
	words := wordBox.FindAllStringSubmatch(string(out), -1)
	if len(words) == 0 {
		t.Fatal("pdftotext -bbox found no words")
	}
	const slack = 0.5
	bad := 0
	for _, m := range words {
		var f [4]float64
		for i := range f {
			f[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		xMin, yMin, xMax, yMax := f[0], f[1], f[2], f[3]
		inBody := yMax <= bottom+slack
		inFooter := yMin >= pageH-42
		if xMin < marginX-slack || xMax > pageW-marginX+slack || yMin < 20 || yMax > pageH-20 || !(inBody || inFooter) {
			if bad++; bad <= 5 {
				t.Errorf("word %q at x %.1f–%.1f, y %.1f–%.1f is outside the printable area", m[5], xMin, xMax, yMin, yMax)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d words in all outside the printable area", bad)
	}
}

// flat joins the text's lines, so a title wrapped over two lines still
// matches.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestWritePDFContent(t *testing.T) {
	t.Parallel()
	v := fullInforme(t)
	pdf := render(t, v)
	checkInside(t, pdf)
	text := pdfText(t, pdf)
	ft := flat(text)
	want := []string{
		"SENAPRED Región de Valparaíso — Informe diario",
		"Jueves 12 de febrero de 2026",
		"Estado al 12-02-2026 23:59",
		// the ingested informe's header
		"N° 043 — Informe de situación regional — mañana",
		"Fuente: Dirección Regional SENAPRED Valparaíso",
		"Emitido: 12-02-2026 07:30",
		"¿Cuál es el pronóstico? ¡Calor extremo en el interior!",
		// sections
		"Alertas vigentes", "Turnos", "Novedades",
		// levels, strongest first, hazards
		"Alerta Roja", "Alerta Amarilla", "Alerta Temprana Preventiva",
		"Incendio forestal", "Marejadas", "Calor extremo", "Sistema frontal",
		// titles, accents and ñ
		"Incendio forestal «Las Palmas»: evacuación en Viña del Mar",
		"Marejadas anormales en el archipiélago",
		"Temporada de incendios forestales — niñas, niños y pingüinos",
		// ámbito by name, not code
		"Comunas de Viña del Mar y Concón",
		"Comuna de Juan Fernández",
		"Provincias de Quillota y Marga Marga",
		"Regional (toda la Región de Valparaíso)",
		"Provincia de Petorca; comunas de Los Andes y Valparaíso",
		"Declarada: 12-02-2026 14:05 · Actualizada: 12-02-2026 16:40 por mmuñoz · Resolución: Res. Ex. N° 1234",
		"Temperaturas sobre 36 °C.",
		// shifts
		"Sofía Núñez", "Iñaki Peña, José Ibáñez", "08:00–20:00", "Enlace regional", "Martín Güemes",
		// novedades, corrected marked
		"Novedad número 1:", "Novedad número 64:", "[CORREGIDA]",
		"Corregida por jefe.turno el 12-02-2026 03:10: cifra de evacuados errónea",
		"Coordinación", "Comunicación",
	}
	for _, w := range want {
		if !strings.Contains(ft, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	for _, code := range []string{"05109", "05103", "05104", "055 ", "058"} {
		if strings.Contains(ft, code) {
			t.Errorf("PDF text shows the code %q instead of a name", code)
		}
	}

	// Levels strongest first, and the count table says how many.
	roja, amarilla, temprana := strings.Index(ft, "Alerta Roja 2 alertas"), strings.Index(ft, "Alerta Amarilla 2 alertas"), strings.Index(ft, "Alerta Temprana Preventiva 1 alerta")
	if roja < 0 || amarilla < 0 || temprana < 0 || !(roja < amarilla && amarilla < temprana) {
		t.Errorf("level bands missing or out of order: roja %d, amarilla %d, temprana %d", roja, amarilla, temprana)
	}
	if !regexp.MustCompile(`Total\s+5\b`).MatchString(text) {
		t.Errorf("count table lacks the total of 5 alerts")
	}
	// Sections in order.
	if a, s, n := strings.Index(ft, "Alertas vigentes"), strings.Index(ft, "Turnos"), strings.Index(ft, "Novedades"); !(a < s && s < n) {
		t.Errorf("sections out of order: alertas %d, turnos %d, novedades %d", a, s, n)
	}
	// Novedades in the order written.
	last := -1
	for i := 1; i <= 64; i++ {
		at := strings.Index(ft, fmt.Sprintf("Novedad número %d:", i))
		if at <= last {
			t.Fatalf("novedad %d at %d, not after the previous one at %d", i, at, last)
		}
		last = at
	}

	// Every page says "Página X de Y" with the right total.
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("got %d pages, want at least 3 for 64 novedades", len(pages))
	}
	for i, p := range pages {
		if w := fmt.Sprintf("Página %d de %d", i+1, len(pages)); !strings.Contains(p, w) {
			t.Errorf("page %d lacks %q", i+1, w)
		}
		if !strings.Contains(p, "SENAPRED Región de Valparaíso — Informe diario") {
			t.Errorf("page %d lacks the page header", i+1)
		}
	}
}

func TestWritePDFEmpty(t *testing.T) {
	t.Parallel()
	v := projections.InformeView{Date: "2026-07-01", AsOf: time.Date(2026, 7, 2, 3, 59, 59, 0, time.UTC)}
	ft := flat(pdfText(t, render(t, v)))
	for _, w := range []string{"Miércoles 1 de julio de 2026", "Estado al 01-07-2026 23:59", "Sin alertas vigentes", "Sin turnos asignados", "Sin novedades", "Página 1 de 1"} {
		if !strings.Contains(ft, w) {
			t.Errorf("PDF text lacks %q:\n%s", w, ft)
		}
	}
	if strings.Contains(ft, "INFORME RECIBIDO") {
		t.Error("a day without an ingested informe shows a header block")
	}
}

func TestWritePDFDeterministic(t *testing.T) {
	t.Parallel()
	v := fullInforme(t)
	a, b := render(t, v), render(t, v)
	if !bytes.Equal(a, b) {
		t.Fatal("the same informe rendered to different bytes")
	}
	if !bytes.Contains(a, []byte("/CreationDate(D:20260212235959-03'00')")) {
		t.Error("creation date is not the informe's AsOf in Santiago time")
	}
	var c bytes.Buffer
	gen := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := Write(&c, v, Options{Location: santiagoTB(t), GeneratedAt: gen}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(c.Bytes(), []byte("/CreationDate(D:20260301070000-03'00')")) {
		t.Error("creation date is not GeneratedAt")
	}
	if ft := flat(pdfText(t, c.Bytes())); !strings.Contains(ft, "Generado el 01-03-2026 07:00") {
		t.Error("footer lacks the generation time")
	}
}

func TestWritePDFNilLocationIsSantiago(t *testing.T) {
	t.Parallel()
	v := projections.InformeView{Date: "2026-02-12", AsOf: time.Date(2026, 2, 13, 2, 59, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := WritePDF(&buf, v, nil); err != nil {
		t.Fatal(err)
	}
	if ft := flat(pdfText(t, buf.Bytes())); !strings.Contains(ft, "Estado al 12-02-2026 23:59") {
		t.Errorf("AsOf not shown in Santiago time:\n%s", ft)
	}
}

// TestWritePDFAdversarial: text a user may type never makes the report
// fail, panic or spill off the page.
func TestWritePDFAdversarial(t *testing.T) {
	t.Parallel()
	longWord := strings.Repeat("Supercalifragilísticoespialidoso", 40)
	huge := strings.Repeat("Descripción muy larga con acentos áéíóú y eñes ñÑ. ", 200) // ≈ 10 KB
	nasty := []string{
		"control \x00\x01\x07\x1b[31m characters\x7f and \u0085 NEL",
		"emoji 🔥🌊👍🏽👨‍👩‍👧 and flags 🇨🇱",
		"bidi \u202eevil\u202c and zero\u200bwidth and soft\u00adhyphen",
		"decomposed accents: Vin\u0303a del Mar, Conco\u0301n",
		"other scripts: Ελληνικά, русский, 中文, العربية, עברית",
		"invalid utf-8: \xff\xfe\xc3",
		longWord,
		huge,
		"\n\n\n\r\n\t\t   \n",
		"",
	}
	v := fullInforme(t)
	var alerts []projections.AlertView
	for i, s := range nasty {
		a := v.Alerts[i%len(v.Alerts)]
		a.ID, a.Title, a.Description, a.Resolution, a.UpdatedBy = fmt.Sprint("x", i), s, s, s, s
		a.Comunas = []string{"99999", s}
		a.Provincias = []string{s}
		a.Hazard, a.Level = s, s
		alerts = append(alerts, a)
	}
	v.Alerts = append(v.Alerts, alerts...)
	v.Header.Title, v.Header.Summary, v.Header.Number, v.Header.Source = longWord, huge, nasty[0], nasty[1]
	for i, s := range nasty {
		v.Shifts = append(v.Shifts, projections.ShiftView{Shift: domain.Shift{Slot: s, Start: s, End: s, Lead: s, Operators: []string{s, longWord}, Notes: huge}})
		e := v.Log[i].LogEntry
		e.Text, e.By, e.Category, e.Reason, e.Corrected, e.CorrectedBy = s, s, domain.Category(s), s, true, s
		v.Log = append(v.Log, projections.LogEntryView{LogEntry: e})
	}
	v.Date = "not a date \x00 " + longWord
	pdf := render(t, v)
	checkInside(t, pdf)
	ft := flat(pdfText(t, pdf))
	for _, w := range []string{"decomposed accents: Viña del Mar, Concón", "control [31m characters and NEL", "Descripción muy larga con acentos áéíóú y eñes ñÑ."} {
		if !strings.Contains(ft, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if strings.ContainsAny(ft, "\x00\x1b\u202e") {
		t.Error("control characters reached the PDF text")
	}
}

// TestWritePDFConcurrent renders in parallel: the shared fonts must not
// race (run with -race).
func TestWritePDFConcurrent(t *testing.T) {
	t.Parallel()
	v := fullInforme(t)
	want := render(t, v)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			if err := WritePDF(&buf, v, santiagoTB(t)); err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(buf.Bytes(), want) {
				errs <- fmt.Errorf("concurrent render differs")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in  string
		multiline bool
		want      string
	}{
		{"spanish kept", "¿Qué pasó? ¡Ñandú! Güemes, «cita» — fin…", false, "¿Qué pasó? ¡Ñandú! Güemes, «cita» — fin…"},
		{"composes accents", "Vin\u0303a Conco\u0301n", false, "Viña Concón"},
		{"newline kept when multiline", "a\r\nb\rc\u2028d", true, "a\nb\nc\nd"},
		{"newline to space otherwise", "a\nb", false, "a b"},
		{"tabs to spaces", "a\tb", false, "a b"},
		{"controls dropped", "a\x00\x1b\x7fb", false, "ab"}, {"next line is a line break", "a\u0085b", true, "a\nb"},
		{"format characters dropped", "a\u200b\u200db\u202ec\ufe0f\u00ad", false, "abc"},
		{"emoji replaced", "ok 🔥", false, "ok ?"},
		{"other scripts replaced", "中文", false, "??"},
		{"invalid utf-8 replaced", "a\xffb", false, "a?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in, tt.multiline); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLongDate(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"2026-02-12": "jueves 12 de febrero de 2026",
		"2026-09-18": "viernes 18 de septiembre de 2026",
		"2025-06-01": "domingo 1 de junio de 2025",
		"bad":        "bad",
	}
	for in, want := range tests {
		if got := longDate(in); got != want {
			t.Errorf("longDate(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWrapFits: every wrapped line fits its width, even for words longer
// than a line.
func TestWrapFits(t *testing.T) {
	t.Parallel()
	fc, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	d := &doc{widths: map[fontKey]map[rune]float64{}}
	d.pdf.Start(pageConfig())
	if err := d.pdf.AddTTFFontFromFontContainer(fontRegular, fc); err != nil {
		t.Fatal(err)
	}
	d.setFont(fBody)
	in := clean("Palabra "+strings.Repeat("x", 500)+" y más texto con acentos: "+strings.Repeat("ñandú ", 60), true)
	for _, width := range []float64{20, 100, contentW} {
		lines := d.wrap(in, width)
		if got, want := strings.Join(strings.Fields(strings.Join(lines, "")), ""), strings.Join(strings.Fields(in), ""); got != want {
			t.Fatalf("width %v: wrapping lost text", width)
		}
		for _, l := range lines {
			if w, _ := d.pdf.MeasureTextWidth(l); w > width+0.01 {
				t.Errorf("width %v: line %q is %.2f wide", width, l, w)
			}
		}
	}
	if d.err != nil {
		t.Fatal(d.err)
	}
}

// TestFontCoversPrintable: every rune clean lets through has a glyph.
func TestFontCoversPrintable(t *testing.T) {
	t.Parallel()
	fc, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	d := &doc{widths: map[fontKey]map[rune]float64{}}
	d.pdf.Start(pageConfig())
	for _, family := range []string{fontRegular, fontBold} {
		if err := d.pdf.AddTTFFontFromFontContainer(family, fc); err != nil {
			t.Fatal(err)
		}
		if err := d.pdf.SetFont(family, "", 10); err != nil {
			t.Fatal(err)
		}
		for r := rune(0); r < 0x10000; r++ {
			if !printable(r) {
				continue
			}
			ok, err := d.pdf.IsCurrFontContainGlyph(r)
			if err != nil || !ok {
				t.Errorf("%s has no glyph for %U (%q)", family, r, r)
			}
		}
	}
}

func BenchmarkWritePDF(b *testing.B) {
	v := fullInforme(b)
	loc := santiagoTB(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WritePDF(&buf, v, loc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/pdf")
}
