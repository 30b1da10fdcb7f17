package report

import (
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/text/unicode/norm"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Options tune a report beyond its informe.
type Options struct {
	// Location is the time zone every time is shown in; nil means
	// America/Santiago (UTC where the zone database is missing).
	Location *time.Location
	// GeneratedAt, when set, is printed in each page's footer as the moment
	// the report was generated and is the PDF's creation date. Zero prints
	// the informe's AsOf instead and uses it as the creation date, so that
	// the same informe always renders to the same bytes.
	GeneratedAt time.Time
}

// WritePDF writes the informe v as a printable PDF report in Spanish to w,
// with every time shown in loc (nil: America/Santiago). The output depends
// only on v and loc. An error comes from w or, never for user text, from
// the PDF library.
func WritePDF(w io.Writer, v projections.InformeView, loc *time.Location) error {
	return Write(w, v, Options{Location: loc})
}

// Write is WritePDF with options.
func Write(w io.Writer, v projections.InformeView, opt Options) error {
	fc, err := loadFonts()
	if err != nil {
		return err
	}
	loc := opt.Location
	if loc == nil {
		loc = santiago()
	}
	d := &doc{v: v, loc: loc, generated: opt.GeneratedAt, widths: map[fontKey]map[rune]float64{}}
	d.pdf.Start(pageConfig())
	if err := d.pdf.AddTTFFontFromFontContainer(fontRegular, fc); err != nil {
		return fmt.Errorf("report: font %s: %w", fontRegular, err)
	}
	if err := d.pdf.AddTTFFontFromFontContainer(fontBold, fc); err != nil {
		return fmt.Errorf("report: font %s: %w", fontBold, err)
	}
	created := opt.GeneratedAt
	if created.IsZero() {
		created = v.AsOf
	}
	if !created.IsZero() {
		created = created.In(loc)
	}
	d.pdf.SetInfo(gopdf.PdfInfo{
		Title:        clean("Informe diario "+shortDate(v.Date)+" — SENAPRED Región de Valparaíso", false),
		Subject:      "Alertas vigentes, turnos y novedades",
		Creator:      "Vigía",
		Producer:     "Vigía",
		CreationDate: created,
	})
	d.pdf.AddHeader(d.pageHeader)
	d.render()
	if d.err != nil {
		return fmt.Errorf("report: %w", d.err)
	}
	if _, err := d.pdf.WriteTo(w); err != nil {
		return fmt.Errorf("report: write pdf: %w", err)
	}
	return nil
}

//go:embed fonts/DejaVuSans.ttf
var regularTTF []byte

//go:embed fonts/DejaVuSans-Bold.ttf
var boldTTF []byte

// Font families, also the PDF's BaseFont names.
const (
	fontRegular = "DejaVuSans"
	fontBold    = "DejaVuSans-Bold"
)

var (
	fontsOnce sync.Once
	fontsSet  *gopdf.FontContainer
	fontsErr  error
)

// loadFonts parses the embedded fonts once; every document takes a copy.
func loadFonts() (*gopdf.FontContainer, error) {
	fontsOnce.Do(func() {
		fc := &gopdf.FontContainer{}
		opt := gopdf.TtfOption{OnGlyphNotFoundSubstitute: func(rune) rune { return '?' }}
		if err := fc.AddTTFFontDataWithOption(fontRegular, regularTTF, opt); err != nil {
			fontsErr = fmt.Errorf("report: parse %s: %w", fontRegular, err)
			return
		}
		if err := fc.AddTTFFontDataWithOption(fontBold, boldTTF, opt); err != nil {
			fontsErr = fmt.Errorf("report: parse %s: %w", fontBold, err)
			return
		}
		fontsSet = fc
	})
	return fontsSet, fontsErr
}

var (
	zoneOnce sync.Once
	zone     *time.Location
)

func santiago() *time.Location {
	zoneOnce.Do(func() {
		var err error
		if zone, err = time.LoadLocation("America/Santiago"); err != nil {
			zone = time.UTC
		}
	})
	return zone
}

// Page geometry, in points (A4 portrait).
const (
	pageW    = 595.28
	pageH    = 841.89
	marginX  = 46.0
	contentW = pageW - 2*marginX
	top      = 64.0         // where content starts, below the page header
	bottom   = pageH - 52.0 // where content must end, above the footer
)

// pageConfig is A4 portrait, measured in points.
func pageConfig() gopdf.Config {
	return gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT}
}

type rgb struct{ r, g, b uint8 }

var (
	black     = rgb{0x1a, 0x1a, 0x1a}
	gray      = rgb{0x5f, 0x63, 0x68}
	lightGray = rgb{0xc8, 0xcc, 0xd0}
	paleGray  = rgb{0xf1, 0xf3, 0xf4}
	navy      = rgb{0x12, 0x33, 0x5c}
	white     = rgb{0xff, 0xff, 0xff}
)

// levelColor is the colour SENAPRED gives each level.
func levelColor(l domain.Level) (band, text rgb) {
	switch l {
	case domain.LevelRoja:
		return rgb{0xc6, 0x28, 0x28}, white
	case domain.LevelAmarilla:
		return rgb{0xf5, 0xc2, 0x18}, black
	case domain.LevelTempranaPreventiva:
		return rgb{0x2e, 0x7d, 0x32}, white
	}
	return rgb{0x75, 0x75, 0x75}, white
}

type fontKey struct {
	bold bool
	size float64
}

var (
	fBody    = fontKey{false, 9.5}
	fSmall   = fontKey{false, 8.5}
	fSmallB  = fontKey{true, 8.5}
	fTiny    = fontKey{false, 7.5}
	fItemB   = fontKey{true, 10}
	fSubhead = fontKey{true, 10.5}
	fBand    = fontKey{true, 10.5}
	fHeading = fontKey{true, 13}
	fTitle   = fontKey{true, 16}
	fDate    = fontKey{false, 12}
)

// lineHeight is the leading of a font size.
func lineHeight(f fontKey) float64 { return f.size * 1.38 }

// doc is one report being laid out: a cursor that flows text down pages.
type doc struct {
	pdf       gopdf.GoPdf
	v         projections.InformeView
	loc       *time.Location
	generated time.Time
	y         float64
	font      fontKey
	fontSet   bool
	widths    map[fontKey]map[rune]float64
	err       error
}

func (d *doc) fail(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

func (d *doc) setFont(f fontKey) {
	family := fontRegular
	if f.bold {
		family = fontBold
	}
	d.fail(d.pdf.SetFont(family, "", f.size))
	d.font, d.fontSet = f, true
}

func (d *doc) setTextColor(c rgb) { d.pdf.SetTextColor(c.r, c.g, c.b) }

// width measures s, already clean, in the current font. Kerning is off,
// so a text's width is the sum of its glyphs', each measured once.
func (d *doc) width(s string) float64 {
	m := d.widths[d.font]
	if m == nil {
		m = map[rune]float64{}
		d.widths[d.font] = m
	}
	total := 0.0
	for _, r := range s {
		w, ok := m[r]
		if !ok {
			var err error
			w, err = d.pdf.MeasureTextWidth(string(r))
			d.fail(err)
			m[r] = w
		}
		total += w
	}
	return total
}

// wrap breaks clean text into lines no wider than width in the current
// font: at spaces, inside words too long for a line, and at "\n" (at most
// one blank line in a row).
func (d *doc) wrap(s string, width float64) []string {
	var lines []string
	space := d.width(" ")
	blank := false
	for _, para := range strings.Split(strings.TrimSpace(s), "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			if !blank && len(lines) > 0 {
				lines = append(lines, "")
			}
			blank = true
			continue
		}
		blank = false
		var line []string
		lw := 0.0
		for _, w := range words {
			ww := d.width(w)
			if len(line) > 0 && lw+space+ww <= width {
				line = append(line, w)
				lw += space + ww
				continue
			}
			if len(line) > 0 {
				lines = append(lines, strings.Join(line, " "))
				line, lw = line[:0], 0
			}
			if ww <= width {
				line, lw = append(line, w), ww
				continue
			}
			chunks := d.breakWord(w, width)
			lines = append(lines, chunks[:len(chunks)-1]...)
			last := chunks[len(chunks)-1]
			line, lw = append(line, last), d.width(last)
		}
		if len(line) > 0 {
			lines = append(lines, strings.Join(line, " "))
		}
	}
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// breakWord cuts a word wider than width into pieces that fit (at least
// one rune each).
func (d *doc) breakWord(w string, width float64) []string {
	var out []string
	start, lw := 0, 0.0
	for i, r := range w {
		rw := d.width(string(r))
		if lw+rw > width && i > start {
			out = append(out, w[start:i])
			start, lw = i, 0
		}
		lw += rw
	}
	return append(out, w[start:])
}

// fit shortens a clean line to width, ending it with "…" when cut.
func (d *doc) fit(s string, width float64) string {
	if d.width(s) <= width {
		return s
	}
	ell := d.width("…")
	lw := 0.0
	for i, r := range s {
		rw := d.width(string(r))
		if lw+rw+ell > width {
			return s[:i] + "…"
		}
		lw += rw
	}
	return s
}

// text draws one clean line at (x, y), its top at y.
func (d *doc) text(x, y, w float64, s string, align int) {
	if s == "" || d.err != nil {
		return
	}
	if align == 0 {
		align = gopdf.Left
	}
	d.pdf.SetXY(x, y)
	d.fail(d.pdf.CellWithOption(&gopdf.Rect{W: w, H: lineHeight(d.font)}, s, gopdf.CellOption{Align: align | gopdf.Top}))
}

func (d *doc) fillRect(x, y, w, h float64, c rgb) {
	d.pdf.SetFillColor(c.r, c.g, c.b)
	d.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "F")
}

func (d *doc) rule(x1, x2, y float64, c rgb, width float64) {
	d.pdf.SetStrokeColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(width)
	d.pdf.Line(x1, y, x2, y)
}

// newPage starts a page; the page header is drawn by AddPage.
func (d *doc) newPage() {
	f, set := d.font, d.fontSet
	d.pdf.AddPage()
	d.y = top
	if set {
		d.setFont(f)
	}
}

// ensure starts a new page unless h more points fit on this one. It
// reports whether it did.
func (d *doc) ensure(h float64) bool {
	if d.y+h <= bottom {
		return false
	}
	d.newPage()
	return true
}

// paragraph flows text (cleaned here) in font f from x over width w,
// breaking pages between lines. bar, when set, colours a strip at the left
// margin beside every line, so a block stays marked across pages.
func (d *doc) paragraph(f fontKey, c rgb, x, w float64, text string, multiline bool, bar *rgb) {
	d.setFont(f)
	lh := lineHeight(f)
	for _, line := range d.wrap(clean(text, multiline), w) {
		if d.ensure(lh) {
			d.setFont(f)
		}
		if bar != nil {
			d.fillRect(marginX, d.y, 3, lh, *bar)
		}
		d.setTextColor(c)
		d.text(x, d.y, w, line, gopdf.Left)
		d.y += lh
	}
}

// linesHeight is how tall text is in font f over width w.
func (d *doc) linesHeight(f fontKey, w float64, text string, multiline bool) float64 {
	d.setFont(f)
	return float64(len(d.wrap(clean(text, multiline), w))) * lineHeight(f)
}

// keep starts a new page unless h points fit, when h fits on an empty page
// at all (a longer block just flows).
func (d *doc) keep(h float64) {
	if h <= bottom-top {
		d.ensure(h)
	}
}

func (d *doc) pageHeader() {
	d.setFont(fTiny)
	d.setTextColor(gray)
	left := "SENAPRED Región de Valparaíso — Informe diario"
	d.text(marginX, 26, contentW, left, gopdf.Left)
	right := d.fit(clean("Informe del "+shortDate(d.v.Date)+" · estado al "+stamp(d.v.AsOf, d.loc), false), contentW-d.width(left)-12)
	d.text(marginX, 26, contentW, right, gopdf.Right)
	d.rule(marginX, pageW-marginX, 40, lightGray, 0.6)
}

// pageFooters writes "Página X de Y" and the generation time on every
// page, once the page count is known.
func (d *doc) pageFooters() {
	n := d.pdf.GetNumberOfPages()
	left := "Estado al " + stamp(d.v.AsOf, d.loc)
	if !d.generated.IsZero() {
		left = "Generado el " + stamp(d.generated, d.loc)
	}
	for i := 1; i <= n && d.err == nil; i++ {
		d.fail(d.pdf.SetPage(i))
		d.setFont(fTiny)
		d.setTextColor(gray)
		d.rule(marginX, pageW-marginX, pageH-42, lightGray, 0.6)
		d.text(marginX, pageH-36, contentW, left, gopdf.Left)
		d.text(marginX, pageH-36, contentW, "Página "+itoa(i)+" de "+itoa(n), gopdf.Right)
	}
}

func (d *doc) render() {
	d.newPage()
	d.titleBlock()
	d.alerts()
	d.shifts()
	d.novedades()
	d.informeSections()
	d.pageFooters()
}

func (d *doc) titleBlock() {
	d.paragraph(fTitle, navy, marginX, contentW, "SENAPRED Región de Valparaíso — Informe diario", false, nil)
	d.y += 2
	d.paragraph(fDate, black, marginX, contentW, capitalize(longDate(d.v.Date)), false, nil)
	d.paragraph(fBody, gray, marginX, contentW, "Estado al "+stamp(d.v.AsOf, d.loc), false, nil)
	d.y += 10
	h := d.v.Header
	if h == nil {
		return
	}
	bar := lightGray
	d.keep(4 * lineHeight(fSmall))
	d.paragraph(fSmallB, gray, marginX+10, contentW-10, "INFORME RECIBIDO", false, &bar)
	title := strings.TrimSpace(h.Title)
	if n := strings.TrimSpace(h.Number); n != "" {
		title = "N° " + n + " — " + title
	}
	d.paragraph(fItemB, black, marginX+10, contentW-10, title, false, &bar)
	meta := []string{}
	if s := strings.TrimSpace(h.Source); s != "" {
		meta = append(meta, "Fuente: "+s)
	}
	meta = append(meta, "Emitido: "+stamp(h.IssuedAt, d.loc))
	d.paragraph(fSmall, gray, marginX+10, contentW-10, strings.Join(meta, " · "), false, &bar)
	if s := strings.TrimSpace(h.Summary); s != "" {
		d.y += 2
		d.paragraph(fBody, black, marginX+10, contentW-10, s, true, &bar)
	}
	d.y += 10
}

// heading starts a section, with room for a few lines after it.
func (d *doc) heading(title string) {
	d.y += 6
	d.keep(lineHeight(fHeading) + 60)
	d.paragraph(fHeading, navy, marginX, contentW, title, false, nil)
	d.rule(marginX, pageW-marginX, d.y+1, navy, 1)
	d.y += 8
}

func (d *doc) empty(msg string) {
	d.paragraph(fBody, gray, marginX, contentW, msg, false, nil)
	d.y += 4
}

type levelGroup struct {
	level   domain.Level
	hazards []hazardGroup
	count   int
}

type hazardGroup struct {
	hazard domain.Hazard
	alerts []projections.AlertView
}

// groupAlerts groups alerts by level, strongest first (unknown levels
// last, by name), then by hazard in the order of their Spanish names,
// keeping the view's order inside a hazard.
func groupAlerts(alerts []projections.AlertView) []levelGroup {
	byLevel := map[domain.Level]map[domain.Hazard][]projections.AlertView{}
	for _, a := range alerts {
		l, h := domain.Level(a.Level), domain.Hazard(a.Hazard)
		if byLevel[l] == nil {
			byLevel[l] = map[domain.Hazard][]projections.AlertView{}
		}
		byLevel[l][h] = append(byLevel[l][h], a)
	}
	levels := make([]domain.Level, 0, len(byLevel))
	for l := range byLevel {
		levels = append(levels, l)
	}
	sort.Slice(levels, func(i, j int) bool {
		ri, rj := levels[i].Rank(), levels[j].Rank()
		if ri != rj {
			return ri > rj
		}
		return levels[i] < levels[j]
	})
	out := make([]levelGroup, 0, len(levels))
	for _, l := range levels {
		g := levelGroup{level: l}
		for h, as := range byLevel[l] {
			g.hazards = append(g.hazards, hazardGroup{hazard: h, alerts: as})
			g.count += len(as)
		}
		sort.Slice(g.hazards, func(i, j int) bool {
			ki, kj := sortKey(g.hazards[i].hazard.Label()), sortKey(g.hazards[j].hazard.Label())
			if ki != kj {
				return ki < kj
			}
			return g.hazards[i].hazard < g.hazards[j].hazard
		})
		out = append(out, g)
	}
	return out
}

// sortKey folds case and accents, so "Évacuación" sorts among the E's.
func sortKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func (d *doc) alerts() {
	d.heading("Alertas vigentes")
	if len(d.v.Alerts) == 0 {
		d.empty("Sin alertas vigentes.")
		return
	}
	groups := groupAlerts(d.v.Alerts)
	d.summaryTable(groups)
	for _, g := range groups {
		band, fg := levelColor(g.level)
		d.y += 8
		d.setFont(fBand)
		count := plural(g.count, "alerta", "alertas")
		label := d.wrap(clean(g.level.Label(), false), contentW-16-d.width(count)-12)
		if len(label) > 3 {
			label = append(label[:2], d.fit(label[2]+"…", contentW-16-d.width(count)-12))
		}
		bandH := float64(len(label))*lineHeight(fBand) + 6
		d.keep(bandH + lineHeight(fSubhead) + 5*lineHeight(fSmall))
		d.ensure(bandH)
		d.fillRect(marginX, d.y, contentW, bandH, band)
		d.setTextColor(fg)
		for i, l := range label {
			d.text(marginX+8, d.y+3+float64(i)*lineHeight(fBand), contentW-16, l, gopdf.Left)
		}
		d.text(marginX+8, d.y+3, contentW-16, count, gopdf.Right)
		d.y += bandH + 6
		for _, h := range g.hazards {
			d.keep(lineHeight(fSubhead) + 5*lineHeight(fSmall))
			d.paragraph(fSubhead, navy, marginX, contentW, h.hazard.Label()+" ("+itoa(len(h.alerts))+")", false, nil)
			d.y += 3
			for _, a := range h.alerts {
				d.alert(a, band)
			}
		}
	}
}

func (d *doc) summaryTable(groups []levelGroup) {
	counts := map[domain.Level]levelGroup{}
	for _, g := range groups {
		counts[g.level] = g
	}
	var rows [][]string
	total := 0
	add := func(g levelGroup) {
		parts := make([]string, 0, len(g.hazards))
		for _, h := range g.hazards {
			parts = append(parts, h.hazard.Label()+" ("+itoa(len(h.alerts))+")")
		}
		hz := strings.Join(parts, ", ")
		if hz == "" {
			hz = "—"
		}
		rows = append(rows, []string{g.level.Label(), itoa(g.count), hz})
		total += g.count
	}
	for i := len(domain.Levels) - 1; i >= 0; i-- {
		l := domain.Levels[i]
		g, ok := counts[l]
		if !ok {
			g = levelGroup{level: l}
		}
		add(g)
	}
	for _, g := range groups {
		if !g.level.Valid() {
			add(g)
		}
	}
	rows = append(rows, []string{"Total", itoa(total), ""})
	d.table([]column{
		{title: "Nivel", width: 170},
		{title: "Alertas", width: 60, align: gopdf.Right},
		{title: "Amenazas", width: contentW - 230},
	}, rows, true)
}

// alert prints one alert, a coloured strip at its left.
func (d *doc) alert(a projections.AlertView, band rgb) {
	x, w := marginX+10, contentW-10
	scope := "Ámbito: " + scopeText(a)
	when := "Declarada: " + stamp(a.DeclaredAt, d.loc) + " · Actualizada: " + stamp(a.UpdatedAt, d.loc)
	if u := strings.TrimSpace(a.UpdatedBy); u != "" {
		when += " por " + u
	}
	if r := strings.TrimSpace(a.Resolution); r != "" {
		when += " · Resolución: " + r
	}
	meta := "Amenaza: " + domain.Hazard(a.Hazard).Label() + " · Nivel: " + domain.Level(a.Level).Label()
	head := d.linesHeight(fItemB, w, a.Title, false) + d.linesHeight(fSmall, w, meta, false) +
		d.linesHeight(fSmall, w, scope, false) + d.linesHeight(fSmall, w, when, false)
	d.keep(head + lineHeight(fBody))
	d.paragraph(fItemB, black, x, w, a.Title, false, &band)
	d.paragraph(fSmall, gray, x, w, meta, false, &band)
	d.paragraph(fSmall, gray, x, w, scope, false, &band)
	d.paragraph(fSmall, gray, x, w, when, false, &band)
	if s := strings.TrimSpace(a.Description); s != "" {
		d.paragraph(fBody, black, x, w, s, true, &band)
	}
	d.y += 9
}

// scopeText names an alert's territory: "Regional" or its provinces and
// comunas by name.
func scopeText(a projections.AlertView) string {
	if a.Region {
		return "Regional (toda la Región de Valparaíso)"
	}
	var parts []string
	if len(a.Provincias) > 0 {
		names := make([]string, len(a.Provincias))
		for i, p := range a.Provincias {
			names[i] = domain.ProvinciaName(p)
		}
		label := "provincia de "
		if len(names) > 1 {
			label = "provincias de "
		}
		parts = append(parts, label+joinNames(names))
	}
	if len(a.Comunas) > 0 {
		label := "comuna de "
		if len(a.Comunas) > 1 {
			label = "comunas de "
		}
		parts = append(parts, label+joinNames(comunaNames(a.Comunas)))
	}
	if len(parts) == 0 {
		return "—"
	}
	return capitalize(strings.Join(parts, "; "))
}

func comunaNames(codes []string) []string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = domain.ComunaName(c)
	}
	return names
}

func (d *doc) shifts() {
	d.heading("Turnos")
	if len(d.v.Shifts) == 0 {
		d.empty("Sin turnos asignados.")
		return
	}
	rows := make([][]string, 0, len(d.v.Shifts))
	for _, s := range d.v.Shifts {
		hours := strings.TrimSpace(s.Start) + "–" + strings.TrimSpace(s.End)
		if s.Start == "" && s.End == "" {
			hours = "—"
		}
		lead := strings.TrimSpace(s.Lead)
		if lead == "" {
			lead = "—"
		}
		ops := strings.Join(s.Operators, ", ")
		if strings.TrimSpace(ops) == "" {
			ops = "—"
		}
		rows = append(rows, []string{slotLabel(s.Slot), hours, lead, ops, s.Notes})
	}
	d.table([]column{
		{title: "Turno", width: 78},
		{title: "Horario", width: 70},
		{title: "Jefe de turno", width: 105},
		{title: "Operadores", width: 125},
		{title: "Notas", width: contentW - 378},
	}, rows, false)
}

func (d *doc) novedades() {
	d.heading("Novedades")
	if len(d.v.Log) == 0 {
		d.empty("Sin novedades.")
		return
	}
	x, w := marginX+8, contentW-8
	for i, e := range d.v.Log {
		head := clock(e.At, d.loc, d.v.Date) + " · " + categoryLabel(string(e.Category))
		if by := strings.TrimSpace(e.By); by != "" {
			head += " · " + by
		}
		if len(e.Comunas) > 0 {
			head += " · " + joinNames(comunaNames(e.Comunas))
		}
		if e.Corrected {
			head += " · [CORREGIDA]"
		}
		d.keep(d.linesHeight(fSmallB, contentW, head, false) + lineHeight(fBody))
		if i > 0 {
			d.rule(marginX, pageW-marginX, d.y-3, paleGray, 0.5)
		}
		d.paragraph(fSmallB, navy, marginX, contentW, head, false, nil)
		d.paragraph(fBody, black, x, w, e.Text, true, nil)
		if e.Corrected {
			note := "Corregida"
			if by := strings.TrimSpace(e.CorrectedBy); by != "" {
				note += " por " + by
			}
			if !e.CorrectedAt.IsZero() {
				note += " el " + stamp(e.CorrectedAt, d.loc)
			}
			if r := strings.TrimSpace(e.Reason); r != "" {
				note += ": " + r
			}
			d.paragraph(fTiny, gray, x, w, note, false, nil)
		}
		d.y += 7
	}
}

type column struct {
	title string
	width float64
	// align is gopdf.Left (the zero value is taken as Left) or gopdf.Right.
	align int
}

const cellPad = 3.0

// table draws rows under a header row that repeats on every page. A row
// moves to the next page whole when it fits on one; a taller row is split
// between lines. lastBold sets the last row in bold (a total).
func (d *doc) table(cols []column, rows [][]string, lastBold bool) {
	lh := lineHeight(fSmall)
	header := func() {
		h := lh + 2*cellPad
		d.fillRect(marginX, d.y, contentW, h, navy)
		d.setFont(fSmallB)
		d.setTextColor(white)
		x := marginX
		for _, c := range cols {
			d.text(x+cellPad, d.y+cellPad, c.width-2*cellPad, c.title, c.align)
			x += c.width
		}
		d.y += h
	}
	d.keep(2 * (lh + 2*cellPad))
	d.ensure(2 * (lh + 2*cellPad))
	header()
	for ri, row := range rows {
		f := fSmall
		if lastBold && ri == len(rows)-1 {
			f = fSmallB
		}
		d.setFont(f)
		cells := make([][]string, len(cols))
		n := 1
		for ci, c := range cols {
			s := ""
			if ci < len(row) {
				s = row[ci]
			}
			cells[ci] = d.wrap(clean(s, true), c.width-2*cellPad)
			n = max(n, len(cells[ci]))
		}
		rowH := float64(n)*lh + 2*cellPad
		if rowH <= bottom-top-(lh+2*cellPad) && d.y+rowH > bottom {
			d.newPage()
			header()
			d.setFont(f)
		}
		for from := 0; from < n; {
			fit := int((bottom - d.y - 2*cellPad) / lh)
			if fit < 1 {
				d.newPage()
				header()
				d.setFont(f)
				continue
			}
			to := min(n, from+fit)
			h := float64(to-from)*lh + 2*cellPad
			if ri%2 == 1 {
				d.fillRect(marginX, d.y, contentW, h, paleGray)
			}
			d.setTextColor(black)
			x := marginX
			for ci, c := range cols {
				for li := from; li < to && li < len(cells[ci]); li++ {
					d.text(x+cellPad, d.y+cellPad+float64(li-from)*lh, c.width-2*cellPad, cells[ci][li], c.align)
				}
				x += c.width
			}
			d.y += h
			d.rule(marginX, pageW-marginX, d.y, lightGray, 0.4)
			from = to
		}
	}
	d.y += 6
}
