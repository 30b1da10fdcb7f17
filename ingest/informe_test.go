package ingest_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

const pmName = "Informe Situación Regional PM 11 06 25.docx"

func parseBody(t *testing.T, body string) *ingest.Informe {
	t.Helper()
	inf, err := ingest.Parse(docx(t, body), pmName)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return inf
}

func TestInformeComplete(t *testing.T) {
	inf := parseBody(t, fullInforme().body())
	if len(inf.Warnings) > 0 {
		t.Errorf("warnings: %q", inf.Warnings)
	}
	got := toAny(t, inf.Content)
	want := toAny(t, json.RawMessage(`{
		"edition": "PM", "date": "2025-06-11", "time": "18:45",
		"alertas": [{"nivel": "Amarilla", "evento": "Alteración Sanitaria", "cobertura": "Provincia de Los Andes", "amplitud": "SINAPRED"}],
		"emergencias": [{"n_informe": "12", "fecha_hora": "11/06 10:00", "evento_lugar": "Incendio, Quilpué", "resumen": "Controlado"}],
		"avisos": [{"aviso": "Aviso A1/2025", "emision": "10/06 12:05", "descripcion": "Viento", "cobertura": "Regional"}],
		"uv": {"observado_label": "Índice observado ayer", "observado_valor": "3 (Moderado)", "pronosticado_label": "Índice pronosticado para hoy", "pronosticado_valor": "5 (Moderado)"},
		"hidrometria": [
			{"estacion": "Aconcagua", "umbral": "2,10 m", "nivel_m": 1.15, "caudal_m3s": 17.22, "estado": "Normal"},
			{"estacion": "Putaendo", "umbral": "1.60 m", "nivel_m": null, "caudal_m3s": null, "estado": "Sin datos"}],
		"carreteras": [{"ruta": "Ruta 60 CH", "estado": "Túnel", "condicion": "Cerrado"}],
		"puertos": [{"puerto": "Valparaíso", "estado": "Sin restricciones", "condicion": "Normal"}],
		"pasos": [{"paso": "Los Libertadores", "condicion": "Habilitado", "observaciones": "-"}]}`))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("content differs:\n%s", strings.Join(diff("", got, want), "\n"))
	}
}

// TestInformeReorderedAndExtraTables: sections in another order, an extra
// table, headings in other case, accents and spacing: found all the same.
func TestInformeReorderedAndExtraTables(t *testing.T) {
	in := fullInforme()
	extra := p("Heading1", "Turnos") + tbl(row("Nombre", "Cargo"), row("Ana", "Operadora"))
	in.sections = []string{
		extra,
		p("Heading1", "PASOS   FRONTERIZOS") + tbl(row("Paso", "Condicion", "Observaciones"), row("Los Libertadores", "Cerrado", "Nieve")),
		secAvisos, secPuertos, extra,
		p("Heading1", "1.  resumen de ALERTAS VIGENTES ") + tbl(row("NIVEL", "EVENTO", "COBERTURA", "AMPLITUD"), row("Roja", "Incendio", "Quilpué", "Comunal")),
		secCarreteras, secHidro, secUV, secEmergencias,
	}
	inf := parseBody(t, in.body())
	c := inf.Content
	if len(inf.Warnings) > 0 {
		t.Errorf("warnings: %q", inf.Warnings)
	}
	if len(c.Alertas) != 1 || c.Alertas[0].Nivel != "Roja" || c.Alertas[0].Amplitud != "Comunal" {
		t.Errorf("alertas %+v", c.Alertas)
	}
	if len(c.Pasos) != 1 || c.Pasos[0].Condicion != "Cerrado" {
		t.Errorf("pasos %+v", c.Pasos)
	}
	if len(c.Avisos) != 1 || len(c.Puertos) != 1 || len(c.Carreteras) != 1 || len(c.Hidrometria) != 2 || c.UV == nil || len(c.Emergencias) != 1 {
		t.Errorf("sections missing: %+v", c)
	}
}

// TestInformeColumnsByHeader: columns are read by their header, not their
// position.
func TestInformeColumnsByHeader(t *testing.T) {
	in := fullInforme()
	in.sections = []string{p("Heading1", "Alertas vigentes") +
		tbl(row("Amplitud", "Cobertura", "Evento", "Nivel"), row("SINAPRED", "Regional", "Meteorológico", "Temprana Preventiva"))}
	inf := parseBody(t, in.body())
	want := []ingest.Alerta{{Nivel: "Temprana Preventiva", Evento: "Meteorológico", Cobertura: "Regional", Amplitud: "SINAPRED"}}
	if !reflect.DeepEqual(inf.Content.Alertas, want) {
		t.Errorf("got %+v, want %+v", inf.Content.Alertas, want)
	}
}

// TestInformeMissingOptionalSections: only Fecha/Hora and alertas; every
// other section is empty (uv null) and listed in Warnings.
func TestInformeMissingOptionalSections(t *testing.T) {
	in := fullInforme()
	in.sections = []string{secAlertas}
	inf := parseBody(t, in.body())
	got := toAny(t, inf.Content).(map[string]any)
	for _, k := range []string{"emergencias", "avisos", "hidrometria", "carreteras", "puertos", "pasos"} {
		if l, ok := got[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %v, want []", k, got[k])
		}
	}
	if v, ok := got["uv"]; !ok || v != nil {
		t.Errorf("uv = %v, want null", v)
	}
	if len(inf.Warnings) != 7 {
		t.Errorf("got %d warnings, want 7: %q", len(inf.Warnings), inf.Warnings)
	}
	for _, w := range inf.Warnings {
		if !strings.HasPrefix(w, "no se encontró la sección") {
			t.Errorf("warning %q", w)
		}
	}
}

// TestInformeCaptionRowAndNoHeading: a merged caption row above the
// header, no heading paragraph: found by the header row.
func TestInformeCaptionRowAndNoHeading(t *testing.T) {
	caption := `<w:tc><w:tcPr><w:gridSpan w:val="4"/></w:tcPr>` + p("", "RESUMEN DE ALERTAS") + `</w:tc>`
	in := fullInforme()
	in.sections = []string{tbl(row(caption), row("Nivel", "Evento", "Cobertura", "Amplitud"), row("Amarilla", "Sanitaria", "Los Andes", "SINAPRED"))}
	inf := parseBody(t, in.body())
	if len(inf.Content.Alertas) != 1 || inf.Content.Alertas[0].Evento != "Sanitaria" {
		t.Errorf("alertas %+v", inf.Content.Alertas)
	}
}

// TestInformeByHeadingOnly: a header row renamed beyond recognition, the
// heading still says what the table is: read by position, with a warning.
func TestInformeByHeadingOnly(t *testing.T) {
	in := fullInforme()
	in.sections = []string{p("Heading1", "1. Resumen de alertas vigentes") +
		strings.Replace(tbl(row("Grado", "Tipo", "Zona", "Sistema"), row("Roja", "Incendio", "Quilpué", "SINAPRED")),
			"<w:tr>", "<w:tr><w:trPr><w:tblHeader/></w:trPr>", 1)}
	inf := parseBody(t, in.body())
	want := []ingest.Alerta{{Nivel: "Roja", Evento: "Incendio", Cobertura: "Quilpué", Amplitud: "SINAPRED"}}
	if !reflect.DeepEqual(inf.Content.Alertas, want) {
		t.Errorf("got %+v, want %+v", inf.Content.Alertas, want)
	}
	if !strings.Contains(strings.Join(inf.Warnings, "\n"), "se leyó por posición") {
		t.Errorf("no warning about reading by position: %q", inf.Warnings)
	}
}

// TestInformeMergedCells: a vertically merged Nivel and a Amplitud merged
// down the whole table give every alerta its values.
func TestInformeMergedCells(t *testing.T) {
	restart := func(s string) string {
		return `<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>` + p("", s) + `</w:tc>`
	}
	cont := `<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>`
	in := fullInforme()
	in.sections = []string{p("Heading1", "1. Resumen de alertas vigentes") + tbl(
		row("Nivel", "Evento", "Cobertura", "Amplitud"),
		row(restart("Temprana Preventiva"), "Meteorológico", "Regional", restart("SINAPRED")),
		row(cont, "Alteración Sanitaria", "Regional continental", cont),
		row("Amarilla", "Alteración Sanitaria", "Provincia de Los Andes", cont))}
	inf := parseBody(t, in.body())
	want := []ingest.Alerta{
		{"Temprana Preventiva", "Meteorológico", "Regional", "SINAPRED"},
		{"Temprana Preventiva", "Alteración Sanitaria", "Regional continental", "SINAPRED"},
		{"Amarilla", "Alteración Sanitaria", "Provincia de Los Andes", "SINAPRED"},
	}
	if !reflect.DeepEqual(inf.Content.Alertas, want) {
		t.Errorf("got %+v, want %+v", inf.Content.Alertas, want)
	}
}

// TestInformeEmergencias: "-" rows dropped, continuation rows (plain or
// with the first cells merged down) joined to the previous Resumen.
func TestInformeEmergencias(t *testing.T) {
	restart := func(s string) string {
		return `<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>` + p("", s) + `</w:tc>`
	}
	cont := `<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>`
	in := fullInforme()
	in.sections = []string{secAlertas, p("Heading1", "2. Emergencias de las últimas 24 horas") + tbl(
		row("N° Informe", "Fecha y hora", "Evento y lugar", "Resumen"),
		row("-", "-", "-", "-"),
		row("101", "11/06 08:10", "Incendio forestal, Valparaíso", "Se declara Alerta Roja."),
		row("", "", "", "Se despachan brigadas."),
		row(restart("102"), restart("11/06 14:00"), restart("Remoción en masa, Viña del Mar"), "Cierre de calle."),
		row(cont, cont, cont, "Sin lesionados."),
	)}
	inf := parseBody(t, in.body())
	want := []ingest.Emergencia{
		{"101", "11/06 08:10", "Incendio forestal, Valparaíso", "Se declara Alerta Roja. Se despachan brigadas."},
		{"102", "11/06 14:00", "Remoción en masa, Viña del Mar", "Cierre de calle. Sin lesionados."},
	}
	if !reflect.DeepEqual(inf.Content.Emergencias, want) {
		t.Errorf("got %+v, want %+v", inf.Content.Emergencias, want)
	}
}

// TestInformeWordQuirksInFields: a date in a content control split across
// runs with a tracked change, a multi-paragraph cell.
func TestInformeWordQuirksInFields(t *testing.T) {
	fecha := `<w:tc><w:sdt><w:sdtPr><w:date/></w:sdtPr><w:sdtContent><w:p><w:r><w:t xml:space="preserve">Miércoles </w:t></w:r>` +
		`<w:del w:id="1" w:author="x"><w:r><w:delText>10</w:delText></w:r></w:del><w:ins w:id="2" w:author="x"><w:r><w:t>11</w:t></w:r></w:ins>` +
		`<w:r><w:t xml:space="preserve"> de junio 2025</w:t></w:r></w:p></w:sdtContent></w:sdt></w:tc>`
	multi := `<w:tc>` + p("", "Cerrado") + p("", "por nieve") + `</w:tc>`
	body := tbl(row("Fecha", "Hora"), row(fecha, "18:45 horas")) + secAlertas +
		p("Heading1", "11. Pasos fronterizos") + tbl(row("Paso", "Condición", "Observaciones"), row("Los Libertadores", multi, "-"))
	inf := parseBody(t, body)
	if inf.Date != "2025-06-11" {
		t.Errorf("date %q", inf.Date)
	}
	if got := inf.Content.Pasos[0].Condicion; got != "Cerrado\npor nieve" {
		t.Errorf("condicion %q", got)
	}
}

// TestInformeFechaLabels: a Fecha/Hora table written downwards.
func TestInformeFechaLabels(t *testing.T) {
	body := tbl(row("Fecha", "miércoles, 28 de mayo de 2025"), row("Hora", "0:35 h.")) + secAlertas
	inf, err := ingest.Parse(docx(t, body), "Informe Situación Regional AM 28 05 25.docx")
	if err != nil {
		t.Fatal(err)
	}
	if inf.Date != "2025-05-28" || inf.Time != "00:35" || inf.Edition != "AM" {
		t.Errorf("got %s %s %s", inf.Date, inf.Time, inf.Edition)
	}
}

// TestInformeStaleDate: a date that disagrees with the file name is kept
// (it is what the informe says) and warned about.
func TestInformeStaleDate(t *testing.T) {
	in := fullInforme()
	in.fecha = "Lunes 09 de junio 2025"
	inf := parseBody(t, in.body())
	if inf.Date != "2025-06-09" || !strings.Contains(strings.Join(inf.Warnings, "\n"), "nombre del archivo") {
		t.Errorf("date %s, warnings %q", inf.Date, inf.Warnings)
	}
}

func TestInformeHidrometria(t *testing.T) {
	in := fullInforme()
	in.sections = []string{secAlertas, p("Heading1", "7. Datos hidrométricos") + tbl(
		row("Estación", "Umbral", "Nivel / Caudal", "Estado"),
		row("A", "2.10 m", "0.83 m / 9.627 m3/s", "Normal"),
		row("B", "2,30 m", "1,03m/6,77m³/s", "Normal"),
		row("C", "1,60 m", "s/d", "Sin datos"),
		row("D", "1,60 m", "0,29 m / s/d", "Normal"),
	)}
	inf := parseBody(t, in.body())
	var got []string
	for _, h := range inf.Content.Hidrometria {
		got = append(got, show(h.NivelM)+" "+show(h.CaudalM3s))
	}
	want := []string{"0.83 9.627", "1.03 6.77", "null null", "0.29 null"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
