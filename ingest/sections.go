package ingest

import (
	"fmt"
	"strings"
)

// Section ids.
const (
	secFecha = iota
	secAlertas
	secEmergencias
	secIncendios
	secAvisos
	secPronostico
	secUV
	secHidrometria
	secCarreteras
	secPuertos
	secAire
	secPasos
	numSections
)

// column is one column a section reads, with the header texts (folded)
// that name it. An optional column may be absent.
type column struct {
	names    []string
	optional bool
}

// section describes how to recognise one of the informe's tables: by the
// heading paragraph before it and/or by its header row. Tables are never
// found by position: real informes add, drop and reorder sections.
type section struct {
	id       int
	title    string   // for warnings
	headings []string // folded phrases of the heading, at word boundaries
	columns  []column // in the order the parser reads them; the first is the key
	// labels: the header row is recognised by cells containing these
	// (the UV table has a labels row instead of a header).
	labels   []string
	optional bool // missing → warning; required sections are checked by the parser
	repeats  bool // one table per zone (pronóstico): no warning for the next ones
}

func col(names ...string) column    { return column{names: names} }
func optCol(names ...string) column { return column{names: names, optional: true} }

// sections lists every table of the template. Incendios, pronóstico and
// calidad del aire are not extracted, but are recognised so that their
// tables are never taken for another section.
var sections = []section{
	{id: secFecha, title: "Fecha y hora", columns: []column{col("fecha"), col("hora")}},
	{id: secAlertas, title: "Resumen de alertas vigentes",
		headings: []string{"alertas vigentes", "resumen de alertas", "alertas declaradas", "alertas sinapred"},
		columns:  []column{col("nivel", "nivel de alerta", "tipo de alerta"), col("evento", "amenaza"), col("cobertura", "territorio"), col("amplitud", "ambito")}},
	{id: secEmergencias, title: "Emergencias de las últimas 24 horas", optional: true,
		headings: []string{"emergencias"},
		columns:  []column{col("n° informe", "n°", "no informe", "nro informe", "numero informe", "informe"), col("fecha y hora", "fecha", "hora"), col("evento y lugar", "evento", "lugar"), col("resumen", "descripcion", "detalle")}},
	{id: secIncendios, title: "Incendios forestales activos",
		headings: []string{"incendios forestales", "incendios"},
		columns:  []column{col("nombre", "incendio"), col("comuna"), col("superficie", "superficie (ha)"), col("estado")}},
	{id: secAvisos, title: "Avisos, alertas y alarmas meteorológicas", optional: true,
		headings: []string{"avisos, alertas y alarmas", "alarmas meteorologicas", "avisos meteorologicos", "avisos"},
		columns:  []column{col("aviso/alerta/alarma", "aviso / alerta / alarma", "aviso", "alerta/alarma"), col("emision", "emitido", "fecha de emision"), col("descripcion", "detalle"), col("cobertura", "zona", "territorio")}},
	{id: secPronostico, title: "Pronóstico meteorológico", repeats: true,
		headings: []string{"pronostico"},
		columns:  []column{col("dia"), col("min °c", "min", "minima"), col("max °c", "max", "maxima"), col("condicion")}},
	{id: secUV, title: "Índice de radiación ultravioleta", optional: true,
		headings: []string{"radiacion ultravioleta", "indice uv", "radiacion uv", "indice de radiacion"},
		labels:   []string{"observ", "pronostic"}},
	{id: secHidrometria, title: "Datos hidrométricos", optional: true,
		headings: []string{"hidrometricos", "hidrometria", "hidrometrica"},
		columns:  []column{col("estacion"), col("umbral"), col("nivel / caudal", "nivel/caudal", "nivel"), col("estado"), optCol("caudal", "caudal (m3/s)")}},
	{id: secCarreteras, title: "Estado de carreteras", optional: true,
		headings: []string{"carreteras", "estado de rutas", "red vial", "vialidad"},
		columns:  []column{col("ruta", "camino"), col("tramo / estado", "tramo/estado", "tramo", "estado"), col("condicion")}},
	{id: secPuertos, title: "Estado de puertos", optional: true,
		headings: []string{"puertos"},
		columns:  []column{col("puerto"), col("estado del puerto", "estado"), col("condicion")}},
	{id: secAire, title: "Calidad del aire",
		headings: []string{"calidad del aire"},
		columns:  []column{col("estacion"), col("comuna"), col("mp2,5 µg/m³", "mp2,5", "mp 2,5", "mp10"), col("episodio")}},
	{id: secPasos, title: "Pasos fronterizos", optional: true,
		headings: []string{"pasos fronterizos", "paso fronterizo", "complejo fronterizo", "complejos fronterizos"},
		columns:  []column{col("paso", "paso fronterizo", "complejo"), col("condicion", "estado"), col("observaciones", "observacion")}},
}

// located is a table assigned to a section.
type located struct {
	spec      *section
	table     *Table
	headerRow int   // index of the header (or labels) row; -1 when read by position
	cols      []int // grid column of each spec column, -1 when absent
}

// maxHeaderRow: the header row must be among the first rows (caption rows
// may sit above it).
const maxHeaderRow = 3

// locate assigns tables to sections. A table matches a section by its
// header row (the key column and at least half of the columns named), or
// failing that by the heading paragraphs between the previous table and it
// (or a caption row spanning the table), in which case its columns are read
// by position and a warning says so. The first table of a section wins.
func locate(doc *Document, warn func(string, ...any)) [numSections]*located {
	var found [numSections]*located
	var headings []string
	for _, b := range doc.Blocks {
		if b.Paragraph != nil {
			if f := stripNumber(fold(b.Paragraph.Text)); f != "" {
				headings = append(headings, f)
			}
			continue
		}
		l := match(b.Table, append(headings, captions(b.Table)...))
		headings = headings[:0]
		if l == nil {
			continue
		}
		if found[l.spec.id] != nil {
			if l.spec.repeats {
				continue
			}
			warn("hay más de una tabla «%s»; se usó la primera", l.spec.title)
			continue
		}
		if l.headerRow < 0 && l.spec.id != secFecha {
			warn("la tabla «%s» no tiene los encabezados esperados; se leyó por posición", l.spec.title)
		}
		found[l.spec.id] = l
	}
	return found
}

// captions are the texts of rows whose cells are all one merged cell.
func captions(t *Table) []string {
	var out []string
	for i, r := range t.Rows {
		if i >= maxHeaderRow {
			break
		}
		if len(r.Cells) > 1 && allMerged(r) && r.Cells[0].Text != "" {
			out = append(out, stripNumber(fold(r.Cells[0].Text)))
		}
	}
	return out
}

func allMerged(r Row) bool {
	for _, c := range r.Cells[1:] {
		if !c.HMerged {
			return false
		}
	}
	return true
}

// match picks the section of a table: the section whose header row names
// the most columns (a matching heading breaks ties), unless that header
// match is partial and the heading names another section, which then wins
// and is read by position.
func match(t *Table, headings []string) *located {
	var best *located
	bestScore, bestHeading := 0, false
	folded := foldRows(t)
	for i := range sections {
		s := &sections[i]
		l := headerMatch(s, t, folded)
		if l == nil {
			continue
		}
		score := 10 * countFound(l.cols)
		if s.labels != nil || l.cols == nil {
			score = 10 * len(s.columns)
			if s.labels != nil {
				score = 10 * len(s.labels)
			}
		}
		h := headingMatch(s, headings)
		if h {
			score += 5
		}
		if score > bestScore {
			best, bestScore, bestHeading = l, score, h
		}
	}
	if best != nil && (bestHeading || best.complete()) {
		return best
	}
	for i := range sections {
		s := &sections[i]
		if s.id != secFecha && headingMatch(s, headings) {
			return byPosition(s, t)
		}
	}
	return best
}

// complete reports whether every required column was named in the header.
func (l *located) complete() bool {
	if l.cols == nil {
		return true
	}
	for i, c := range l.spec.columns {
		if !c.optional && l.cols[i] < 0 {
			return false
		}
	}
	return true
}

func countFound(cols []int) int {
	n := 0
	for _, c := range cols {
		if c >= 0 {
			n++
		}
	}
	return n
}

func headingMatch(s *section, headings []string) bool {
	for _, h := range headings {
		for _, p := range s.headings {
			if containsWords(h, p) {
				return true
			}
		}
	}
	return false
}

// foldRows folds the cells of the rows a header may be in, once per
// table; a cell merged into the one on its left is "".
func foldRows(t *Table) [][]string {
	n := min(len(t.Rows), maxHeaderRow)
	out := make([][]string, n)
	for ri := range n {
		out[ri] = make([]string, len(t.Rows[ri].Cells))
		for ci, c := range t.Rows[ri].Cells {
			if !c.HMerged {
				out[ri][ci] = fold(c.Text)
			}
		}
	}
	return out
}

// headerMatch looks for the section's header row among the first rows.
func headerMatch(s *section, t *Table, folded [][]string) *located {
	for ri, r := range folded {
		if s.id == secFecha && ri == 0 && fechaLabels(t) {
			return &located{spec: s, table: t, headerRow: 0}
		}
		if s.labels != nil {
			if labelsRow(s, r) {
				return &located{spec: s, table: t, headerRow: ri}
			}
			continue
		}
		cols := mapColumns(s, r)
		required, named := 0, 0
		for i, c := range s.columns {
			if !c.optional {
				required++
				if cols[i] >= 0 {
					named++
				}
			}
		}
		if cols[0] >= 0 && 2*named >= required && named >= min(2, required) {
			return &located{spec: s, table: t, headerRow: ri, cols: cols}
		}
	}
	return nil
}

// fechaLabels reports a Fecha/Hora table written downwards: Fecha and Hora
// as labels in the first column, their values beside them.
func fechaLabels(t *Table) bool {
	var fecha, hora bool
	for _, r := range t.Rows {
		if len(r.Cells) < 2 {
			continue
		}
		k := fold(r.Cells[0].Text)
		fecha = fecha || k == "fecha" || k == "fecha:"
		hora = hora || k == "hora" || k == "hora:"
	}
	return fecha && hora
}

func labelsRow(s *section, r []string) bool {
	for _, l := range s.labels {
		ok := false
		for _, c := range r {
			if strings.Contains(c, l) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// mapColumns finds each column's grid position in a header row: exact
// names first, then names contained in a header cell, each cell used once.
func mapColumns(s *section, cells []string) []int {
	cols := make([]int, len(s.columns))
	used := make([]bool, len(cells))
	for i := range cols {
		cols[i] = -1
	}
	for pass := 0; pass < 2; pass++ {
		for i, c := range s.columns {
			if cols[i] >= 0 {
				continue
			}
		cells:
			for j, cell := range cells {
				if used[j] || cell == "" {
					continue
				}
				for _, n := range c.names {
					if pass == 0 && cell == n || pass == 1 && containsWords(cell, n) {
						cols[i], used[j] = j, true
						break cells
					}
				}
			}
		}
	}
	return cols
}

// byPosition maps a table found only by its heading: columns in template
// order, the first non-caption row taken as the header if it is text-only.
func byPosition(s *section, t *Table) *located {
	l := &located{spec: s, table: t, headerRow: -1}
	if s.labels != nil {
		if len(t.Rows) > 0 {
			l.headerRow = 0
		}
		return l
	}
	l.cols = make([]int, len(s.columns))
	for i, c := range s.columns {
		l.cols[i] = -1
		if !c.optional {
			l.cols[i] = i
		}
	}
	return l
}

// dataRows are the rows after the header, without caption rows, repeated
// header rows and rows that say "none" ("-" in every cell).
func (l *located) dataRows() []Row {
	var out []Row
	for i, r := range l.table.Rows {
		if i <= l.headerRow || len(r.Cells) > 1 && allMerged(r) {
			continue
		}
		if l.headerRow >= 0 && i > l.headerRow && sameText(r, l.table.Rows[l.headerRow]) {
			continue
		}
		if l.headerRow < 0 && i == 0 && looksLikeHeader(l.spec, r) {
			continue
		}
		none := true
		for _, c := range r.Cells {
			if !isNone(c.Text) {
				none = false
				break
			}
		}
		if !none {
			out = append(out, r)
		}
	}
	return out
}

// looksLikeHeader: a first row, in a table read by position, marked as a
// repeating header row in Word or with a cell naming one of the section's
// columns.
func looksLikeHeader(s *section, r Row) bool {
	if r.Header {
		return true
	}
	for _, c := range r.Cells {
		f := fold(c.Text)
		for _, col := range s.columns {
			for _, n := range col.names {
				if f == n {
					return true
				}
			}
		}
	}
	return false
}

func sameText(a, b Row) bool {
	if len(a.Cells) != len(b.Cells) {
		return false
	}
	for i := range a.Cells {
		if a.Cells[i].Text != b.Cells[i].Text {
			return false
		}
	}
	return true
}

// cell returns the row's cell for spec column i.
func (l *located) cell(r Row, i int) (Cell, bool) {
	if i >= len(l.cols) || l.cols[i] < 0 || l.cols[i] >= len(r.Cells) {
		return Cell{}, false
	}
	return r.Cells[l.cols[i]], true
}

// value returns the text of the row's cell for spec column i, "" when the
// table has no such column.
func (l *located) value(r Row, i int) string {
	c, _ := l.cell(r, i)
	return c.Text
}

// String describes the match, for test failures.
func (l *located) String() string {
	return fmt.Sprintf("%s (header row %d, columns %v)", l.spec.title, l.headerRow, l.cols)
}
