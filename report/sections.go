package report

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/senapred-valparaiso/vigia/ingest"
)

// informeSections prints what the day's current informe (its latest
// received document) says, section by section as the document lays it
// out. A day without a received informe prints nothing here.
func (d *doc) informeSections() {
	if len(d.v.Received) == 0 {
		return
	}
	cur := d.v.Received[len(d.v.Received)-1]
	var c ingest.Content
	if len(cur.Content) == 0 || json.Unmarshal(cur.Content, &c) != nil {
		return
	}
	title := "Informe de situación regional " + cur.Edition
	if cur.Time != "" {
		title += " (" + cur.Time + " h)"
	}
	d.heading(title)
	if n := len(d.v.Received); n > 1 {
		d.empty("Se recibieron " + strconv.Itoa(n) + " documentos este día; se muestra el último (" + cur.Filename + ").")
	}
	d.subTable("Resumen de alertas vigentes (según el informe)", []column{{title: "Nivel", width: 110}, {title: "Evento", width: 120}, {title: "Cobertura", width: contentW - 320}, {title: "Amplitud", width: 90}},
		rowsOf(c.Alertas, func(a ingest.Alerta) []string { return []string{a.Nivel, a.Evento, a.Cobertura, a.Amplitud} }))
	d.subTable("Emergencias de las últimas 24 horas", []column{{title: "N°", width: 50}, {title: "Fecha y hora", width: 80}, {title: "Evento y lugar", width: 130}, {title: "Resumen", width: contentW - 260}},
		rowsOf(c.Emergencias, func(e ingest.Emergencia) []string { return []string{e.NInforme, e.FechaHora, e.EventoLugar, e.Resumen} }))
	d.subTable("Avisos, alertas y alarmas meteorológicas", []column{{title: "Aviso", width: 110}, {title: "Emisión", width: 65}, {title: "Descripción", width: contentW - 305}, {title: "Cobertura", width: 130}},
		rowsOf(c.Avisos, func(a ingest.Aviso) []string { return []string{a.Aviso, a.Emision, a.Descripcion, a.Cobertura} }))
	if c.UV != nil {
		d.subTable("Índice UV", []column{{title: "Observado", width: contentW / 2}, {title: "Pronosticado", width: contentW / 2}},
			[][]string{{strings.TrimSpace(c.UV.ObservadoLabel + " " + c.UV.ObservadoValor), strings.TrimSpace(c.UV.PronosticadoLabel + " " + c.UV.PronosticadoValor)}})
	}
	d.subTable("Datos hidrométricos", []column{{title: "Estación", width: 150}, {title: "Umbral", width: 90}, {title: "Nivel / caudal", width: 120}, {title: "Estado", width: contentW - 360}},
		rowsOf(c.Hidrometria, func(h ingest.Hidrometria) []string {
			return []string{h.Estacion, h.Umbral, number(h.NivelM, " m") + " / " + number(h.CaudalM3s, " m³/s"), h.Estado}
		}))
	d.subTable("Estado de carreteras", []column{{title: "Ruta", width: 110}, {title: "Estado", width: contentW - 240}, {title: "Condición", width: 130}},
		rowsOf(c.Carreteras, func(r ingest.Carretera) []string { return []string{r.Ruta, r.Estado, r.Condicion} }))
	d.subTable("Puertos", []column{{title: "Puerto", width: 110}, {title: "Estado", width: contentW - 240}, {title: "Condición", width: 130}},
		rowsOf(c.Puertos, func(p ingest.Puerto) []string { return []string{p.Puerto, p.Estado, p.Condicion} }))
	d.subTable("Pasos fronterizos", []column{{title: "Paso", width: 150}, {title: "Condición", width: 90}, {title: "Observaciones", width: contentW - 240}},
		rowsOf(c.Pasos, func(p ingest.Paso) []string { return []string{p.Paso, p.Condicion, p.Observaciones} }))
}

// subTable prints a titled table of the informe, or says it had none.
func (d *doc) subTable(title string, cols []column, rows [][]string) {
	d.y += 2
	d.keep(lineHeight(fItemB) + 40)
	d.paragraph(fItemB, navy, marginX, contentW, title, false, nil)
	d.y += 2
	if len(rows) == 0 {
		d.empty("Sin registros en el informe.")
		return
	}
	d.table(cols, rows, false)
}

func rowsOf[T any](items []T, row func(T) []string) [][]string {
	out := make([][]string, len(items))
	for i, it := range items {
		out[i] = row(it)
	}
	return out
}

// number prints a measured value, or "s/d" (sin datos) when the informe has none.
func number(v *float64, unit string) string {
	if v == nil {
		return "s/d"
	}
	return strings.Replace(strconv.FormatFloat(*v, 'f', -1, 64), ".", ",", 1) + unit
}
