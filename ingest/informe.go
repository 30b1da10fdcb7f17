package ingest

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Informe is a parsed informe.
type Informe struct {
	// Date is the informe's date, YYYY-MM-DD, from its Fecha cell.
	Date string
	// Time is HH:MM from its Hora cell (or the closing line), "" when the
	// informe gives none.
	Time string
	// Edition is EditionAM or EditionPM: from the file name, else the
	// title, else the time.
	Edition string
	// Content is what the informe says, in the shape of the reference
	// .expected.json files.
	Content Content
	// Warnings list, in Spanish, what was missing or odd but did not stop
	// the parse: an optional section not found, a header read by position,
	// a date that disagrees with the file name.
	Warnings []string
}

// Content is the informe's data. It marshals to exactly the shape of the
// .expected.json files: the header fields at top level next to the
// sections, every list present (empty, never null), uv null when the
// informe has no UV table.
type Content struct {
	Edition     string        `json:"edition"`
	Date        string        `json:"date"`
	Time        *string       `json:"time"`
	Alertas     []Alerta      `json:"alertas"`
	Emergencias []Emergencia  `json:"emergencias"`
	Avisos      []Aviso       `json:"avisos"`
	UV          *UV           `json:"uv"`
	Hidrometria []Hidrometria `json:"hidrometria"`
	Carreteras  []Carretera   `json:"carreteras"`
	Puertos     []Puerto      `json:"puertos"`
	Pasos       []Paso        `json:"pasos"`
}

// Alerta is one row of "Resumen de alertas vigentes".
type Alerta struct {
	Nivel     string `json:"nivel"`
	Evento    string `json:"evento"`
	Cobertura string `json:"cobertura"`
	Amplitud  string `json:"amplitud"`
}

// Emergencia is one emergency of the last 24 hours; continuation rows are
// already joined into Resumen.
type Emergencia struct {
	NInforme    string `json:"n_informe"`
	FechaHora   string `json:"fecha_hora"`
	EventoLugar string `json:"evento_lugar"`
	Resumen     string `json:"resumen"`
}

// Aviso is one meteorological aviso, alerta or alarma.
type Aviso struct {
	Aviso       string `json:"aviso"`
	Emision     string `json:"emision"`
	Descripcion string `json:"descripcion"`
	Cobertura   string `json:"cobertura"`
}

// UV is the ultraviolet index table: labels as written (they are
// inconsistent in real informes and kept so) and their values.
type UV struct {
	ObservadoLabel    string `json:"observado_label"`
	ObservadoValor    string `json:"observado_valor"`
	PronosticadoLabel string `json:"pronosticado_label"`
	PronosticadoValor string `json:"pronosticado_valor"`
}

// Hidrometria is one river station. NivelM and CaudalM3s are nil when the
// informe says "s/d" (sin datos) or gives no number.
type Hidrometria struct {
	Estacion  string   `json:"estacion"`
	Umbral    string   `json:"umbral"`
	NivelM    *float64 `json:"nivel_m"`
	CaudalM3s *float64 `json:"caudal_m3s"`
	Estado    string   `json:"estado"`
}

// Carretera is one road's state.
type Carretera struct {
	Ruta      string `json:"ruta"`
	Estado    string `json:"estado"`
	Condicion string `json:"condicion"`
}

// Puerto is one port's state.
type Puerto struct {
	Puerto    string `json:"puerto"`
	Estado    string `json:"estado"`
	Condicion string `json:"condicion"`
}

// Paso is one border crossing's state.
type Paso struct {
	Paso          string `json:"paso"`
	Condicion     string `json:"condicion"`
	Observaciones string `json:"observaciones"`
}

// Parse reads and parses an informe file; filename is the attachment or
// upload name, which usually says the edition and date.
func Parse(data []byte, filename string) (*Informe, error) {
	doc, err := ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	return ParseInforme(doc, filename)
}

// ParseInforme extracts an informe from a read document. The Fecha/Hora
// table with a readable date and the alertas table are required (an *Error
// of kind ErrNoFecha, ErrBadDate or ErrNoAlertas otherwise); every other
// section is optional and reported in Warnings when missing.
func ParseInforme(doc *Document, filename string) (*Informe, error) {
	if doc == nil {
		doc = &Document{}
	}
	inf := &Informe{}
	warn := func(format string, a ...any) { inf.Warnings = append(inf.Warnings, fmt.Sprintf(format, a...)) }
	found := locate(doc, warn)

	if err := inf.header(doc, found[secFecha], filename, warn); err != nil {
		return nil, err
	}
	if found[secAlertas] == nil {
		return nil, newError(ErrNoAlertas, "Falta la tabla de alertas",
			"no se encontró la tabla de alertas vigentes (sección «Resumen de alertas vigentes», columnas Nivel, Evento, Cobertura, Amplitud). Revise que el archivo sea un Informe de Situación Regional.", nil)
	}
	c := &inf.Content
	c.Edition, c.Date = inf.Edition, inf.Date
	if inf.Time != "" {
		t := inf.Time
		c.Time = &t
	}
	c.Alertas = rowsOf(found[secAlertas], func(v []string) Alerta { return Alerta{v[0], v[1], v[2], v[3]} })
	c.Emergencias = emergencias(found[secEmergencias])
	c.Avisos = rowsOf(found[secAvisos], func(v []string) Aviso { return Aviso{v[0], v[1], v[2], v[3]} })
	c.UV = uv(found[secUV])
	c.Hidrometria = rowsOf(found[secHidrometria], func(v []string) Hidrometria {
		nivel, caudal := nivelCaudal(v[2], v[4])
		return Hidrometria{Estacion: v[0], Umbral: v[1], NivelM: nivel, CaudalM3s: caudal, Estado: v[3]}
	})
	c.Carreteras = rowsOf(found[secCarreteras], func(v []string) Carretera { return Carretera{v[0], v[1], v[2]} })
	c.Puertos = rowsOf(found[secPuertos], func(v []string) Puerto { return Puerto{v[0], v[1], v[2]} })
	c.Pasos = rowsOf(found[secPasos], func(v []string) Paso { return Paso{v[0], v[1], v[2]} })
	for _, s := range sections {
		if s.optional && found[s.id] == nil {
			warn("no se encontró la sección «%s»; se deja vacía", s.title)
		}
	}
	return inf, nil
}

// header sets Date, Time and Edition from the Fecha/Hora table, the title
// and the file name.
func (inf *Informe) header(doc *Document, fh *located, filename string, warn func(string, ...any)) error {
	if fh == nil {
		return newError(ErrNoFecha, "Falta la fecha del informe",
			"no se encontró la tabla de fecha y hora (columnas Fecha y Hora) al inicio del informe.", nil)
	}
	fecha, hora := fechaHora(fh)
	date, w, ok := ParseDate(fecha)
	if !ok {
		return newError(ErrBadDate, "Fecha del informe no reconocida",
			fmt.Sprintf("no se pudo leer la fecha «%s»; escríbala como «Miércoles 11 de junio 2025».", strings.TrimSpace(fecha)), nil)
	}
	if w != "" {
		warn("%s", w)
	}
	inf.Date = date
	base := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	if d := dateFromName(base); d != "" && d != date {
		warn("la fecha del informe (%s) no coincide con la del nombre del archivo (%s)", date, d)
	}
	var ok2 bool
	if inf.Time, ok2 = ParseTime(hora); !ok2 {
		if t, found := closingTime(doc); found {
			inf.Time = t
			warn("la celda Hora («%s») no tiene hora; se usó la del cierre del informe (%s)", strings.TrimSpace(hora), t)
		} else {
			warn("el informe no indica la hora («%s»)", strings.TrimSpace(hora))
		}
	}
	byName, byTitle, byTime := EditionFromName(base), EditionFromName(title(doc)), EditionFromTime(inf.Time)
	for _, e := range []string{byName, byTitle, byTime} {
		if e != "" {
			inf.Edition = e
			break
		}
	}
	if inf.Edition == "" {
		return newError(ErrNoEdition, "No se sabe si el informe es AM o PM",
			"ni el nombre del archivo, ni el título ni la hora del informe indican la edición (AM o PM). Agregue «AM» o «PM» al nombre del archivo.", nil)
	}
	for _, e := range []string{byTitle, byTime} {
		if e != "" && e != inf.Edition {
			warn("el informe parece de edición %s, pero se tomó %s (del nombre del archivo o el título)", e, inf.Edition)
			break
		}
	}
	return nil
}

// fechaHora returns the Fecha and Hora values: below a Fecha | Hora header
// row, or beside Fecha and Hora labels in the first column.
func fechaHora(l *located) (fecha, hora string) {
	if l.cols != nil {
		if r := l.dataRows(); len(r) > 0 {
			return l.value(r[0], 0), l.value(r[0], 1)
		}
		return "", ""
	}
	for _, r := range l.table.Rows {
		if len(r.Cells) < 2 {
			continue
		}
		switch k := fold(r.Cells[0].Text); {
		case strings.HasPrefix(k, "fecha"):
			fecha = r.Cells[len(r.Cells)-1].Text
		case strings.HasPrefix(k, "hora"):
			hora = r.Cells[len(r.Cells)-1].Text
		}
	}
	return fecha, hora
}

// title is the text of the paragraphs before the first table.
func title(doc *Document) string {
	var b strings.Builder
	for _, bl := range doc.Blocks {
		if bl.Table != nil {
			break
		}
		b.WriteString(bl.Paragraph.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// closingTime reads the time of the closing line ("Valparaíso, Miércoles
// 11 de junio 2025 – 18:45 horas") after the last table.
func closingTime(doc *Document) (string, bool) {
	for i := len(doc.Blocks) - 1; i >= 0 && doc.Blocks[i].Table == nil; i-- {
		p := doc.Blocks[i].Paragraph
		if _, _, ok := ParseDate(p.Text); ok {
			if t, ok := ParseTime(p.Text); ok {
				return t, true
			}
		}
	}
	return "", false
}

// rowsOf maps a located table's data rows, dropping "none" rows; nil table
// gives an empty, non-nil slice.
func rowsOf[T any](l *located, mk func([]string) T) []T {
	out := []T{}
	if l == nil {
		return out
	}
	for _, r := range l.dataRows() {
		v := make([]string, len(l.spec.columns))
		for i := range v {
			v[i] = l.value(r, i)
		}
		out = append(out, mk(v))
	}
	return out
}

// emergencias maps the emergencias rows: a row whose only shown text is
// in Resumen (other cells empty or merged down from the row above)
// continues the previous row's Resumen.
func emergencias(l *located) []Emergencia {
	out := []Emergencia{}
	if l == nil {
		return out
	}
	const resumen = 3
	for _, r := range l.dataRows() {
		cont := len(out) > 0
		for i := 0; i < resumen && cont; i++ {
			c, ok := l.cell(r, i)
			cont = !ok || c.Text == "" || c.VMerged
		}
		res := l.value(r, resumen)
		if cont && res != "" {
			last := &out[len(out)-1]
			last.Resumen = strings.TrimSpace(last.Resumen + " " + res)
			continue
		}
		out = append(out, Emergencia{l.value(r, 0), l.value(r, 1), l.value(r, 2), res})
	}
	return out
}

// uv reads the 2×2 UV table: a labels row (Índice observado … | Índice
// pronosticado …) and the values row below it.
func uv(l *located) *UV {
	if l == nil {
		return nil
	}
	rows := l.table.Rows
	hi := l.headerRow
	if hi < 0 || hi+1 >= len(rows) {
		return &UV{}
	}
	labels, values := rows[hi], rows[hi+1]
	u := &UV{}
	for i, c := range labels.Cells {
		if c.HMerged || i >= len(values.Cells) {
			continue
		}
		f := fold(c.Text)
		switch {
		case strings.Contains(f, "pronostic") && u.PronosticadoLabel == "":
			u.PronosticadoLabel, u.PronosticadoValor = c.Text, values.Cells[i].Text
		case strings.Contains(f, "observ") && u.ObservadoLabel == "":
			u.ObservadoLabel, u.ObservadoValor = c.Text, values.Cells[i].Text
		}
	}
	if u.ObservadoLabel == "" && u.PronosticadoLabel == "" && len(labels.Cells) >= 2 && len(values.Cells) >= 2 {
		u = &UV{labels.Cells[0].Text, values.Cells[0].Text, labels.Cells[1].Text, values.Cells[1].Text}
	}
	return u
}

var (
	nivelRe  = regexp.MustCompile(`^\s*(\d+(?:[.,]\d+)?)\s*m(?:[^3³]|$)`)
	caudalRe = regexp.MustCompile(`(\d+(?:[.,]\d+)?)\s*m(?:3|³)\s*/\s*s`)
	numberRe = regexp.MustCompile(`^\s*(\d+(?:[.,]\d+)?)`)
)

// nivelCaudal reads "<nivel> m / <caudal> m3/s" (comma or dot decimals);
// "s/d" or no number gives nil. A separate Caudal column, when the table
// has one, wins for the caudal.
func nivelCaudal(cell, caudalCell string) (nivel, caudal *float64) {
	if m := nivelRe.FindStringSubmatch(cell); m != nil {
		nivel = number(m[1])
	} else if before, _, found := strings.Cut(cell, "/"); found && !strings.Contains(fold(cell), "s/d") {
		if m := numberRe.FindStringSubmatch(before); m != nil {
			nivel = number(m[1])
		}
	}
	if m := caudalRe.FindStringSubmatch(cell); m != nil {
		caudal = number(m[1])
	} else if _, after, found := strings.Cut(cell, "/"); found && nivel != nil {
		if m := numberRe.FindStringSubmatch(after); m != nil {
			caudal = number(m[1])
		}
	}
	if caudalCell != "" {
		if m := numberRe.FindStringSubmatch(caudalCell); m != nil {
			caudal = number(m[1])
		}
	}
	return nivel, caudal
}

func number(s string) *float64 {
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil {
		return nil
	}
	return &f
}
