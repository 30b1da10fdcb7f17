package ingest_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

const (
	contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`
	docOpen = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps"><w:body>`
	docClose = `<w:sectPr/></w:body></w:document>`
)

// part is one zip entry of a test package.
type part struct{ name, body string }

// zipOf writes the parts into a zip archive.
func zipOf(tb testing.TB, parts ...part) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// docx builds a minimal package ([Content_Types].xml, _rels/.rels,
// word/document.xml) around the given body XML, plus any extra parts.
func docx(tb testing.TB, body string, extra ...part) []byte {
	tb.Helper()
	parts := []part{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", rootRels},
		{"word/document.xml", docOpen + body + docClose},
	}
	return zipOf(tb, append(parts, extra...)...)
}

// p is a paragraph of one run; style is a pStyle id or "".
func p(style, text string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + `<w:r><w:t xml:space="preserve">` + esc(text) + `</w:t></w:r></w:p>`
}

func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tbl is a table whose rows are given as cell texts; a cell written
// "<w:tc..." is used as raw XML.
func tbl(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr/><w:tblGrid/>`)
	for _, r := range rows {
		b.WriteString(`<w:tr>`)
		for _, c := range r {
			if strings.HasPrefix(c, "<w:tc") {
				b.WriteString(c)
				continue
			}
			b.WriteString(`<w:tc>` + p("", c) + `</w:tc>`)
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	return b.String()
}

func row(cells ...string) []string { return cells }

// stylesXML declares Heading1/Heading2 as Word does (English built-in
// names, whatever the UI language).
const stylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="Ttulo1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="MiTitulo"><w:name w:val="Mi título"/><w:basedOn w:val="Ttulo1"/></w:style></w:styles>`

// informe is the body of a small but complete informe, in template order.
type informe struct {
	fecha, hora string
	sections    []string // body XML after the Fecha/Hora table
}

func (in informe) body() string {
	return p("Title", "INFORME DE SITUACIÓN REGIONAL") +
		tbl(row("Fecha", "Hora"), row(in.fecha, in.hora)) +
		strings.Join(in.sections, "")
}

var (
	secAlertas = p("Heading1", "1. Resumen de alertas vigentes") +
		tbl(row("Nivel", "Evento", "Cobertura", "Amplitud"),
			row("Amarilla", "Alteración Sanitaria", "Provincia de Los Andes", "SINAPRED"))
	secEmergencias = p("Heading1", "2. Emergencias de las últimas 24 horas") +
		tbl(row("N° Informe", "Fecha y hora", "Evento y lugar", "Resumen"),
			row("12", "11/06 10:00", "Incendio, Quilpué", "Controlado"))
	secAvisos = p("Heading1", "4. Avisos, alertas y alarmas meteorológicas") +
		tbl(row("Aviso/Alerta/Alarma", "Emisión", "Descripción", "Cobertura"),
			row("Aviso A1/2025", "10/06 12:05", "Viento", "Regional"))
	secUV = p("Heading1", "6. Índice de radiación ultravioleta") +
		tbl(row("Índice observado ayer", "Índice pronosticado para hoy"), row("3 (Moderado)", "5 (Moderado)"))
	secHidro = p("Heading1", "7. Datos hidrométricos") +
		tbl(row("Estación", "Umbral", "Nivel / Caudal", "Estado"),
			row("Aconcagua", "2,10 m", "1,15 m / 17,22 m3/s", "Normal"),
			row("Putaendo", "1.60 m", "s/d", "Sin datos"))
	secCarreteras = p("Heading1", "8. Estado de carreteras") +
		tbl(row("Ruta", "Tramo / estado", "Condición"), row("Ruta 60 CH", "Túnel", "Cerrado"))
	secPuertos = p("Heading1", "9. Estado de puertos") +
		tbl(row("Puerto", "Estado del puerto", "Condición"), row("Valparaíso", "Sin restricciones", "Normal"))
	secPasos = p("Heading1", "11. Pasos fronterizos") +
		tbl(row("Paso", "Condición", "Observaciones"), row("Los Libertadores", "Habilitado", "-"))
)

func fullInforme() informe {
	return informe{fecha: "Miércoles 11 de junio 2025", hora: "18:45 horas",
		sections: []string{secAlertas, secEmergencias, secAvisos, secUV, secHidro, secCarreteras, secPuertos, secPasos}}
}
