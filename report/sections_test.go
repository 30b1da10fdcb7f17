package report

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
)

// TestWritePDFInformeSections: the day's received informe is printed
// section by section, the latest document of the day.
func TestWritePDFInformeSections(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../shared/data/informes/Informe Situación Regional PM 11 06 25.expected.json")
	if err != nil {
		t.Fatalf("reference informe: %v (shared/ sits beside the repository)", err)
	}
	v := fullInforme(t)
	old := domain.InformeReceipt{InformeEdition: domain.InformeEdition{Edition: "AM", Filename: "am.docx", Content: json.RawMessage(`{"alertas":[{"nivel":"Roja","evento":"Sismo","cobertura":"Regional","amplitud":"X"}]}`)}}
	cur := domain.InformeReceipt{InformeEdition: domain.InformeEdition{Edition: "PM", Time: "18:45", Filename: "pm.docx", Content: raw},
		Source: domain.SourceUpload, ReceivedAt: time.Date(2026, 2, 12, 22, 0, 0, 0, time.UTC)}
	v.Received = []domain.InformeReceipt{old, cur}
	pdf := render(t, v)
	if out := os.Getenv("REPORT_PDF_OUT"); out != "" {
		_ = os.WriteFile(out, pdf, 0o644) // to look at it
	}
	checkInside(t, pdf)
	ft := flat(pdfText(t, pdf))
	for _, w := range []string{
		"Informe de situación regional PM (18:45 h)",
		"Se recibieron 2 documentos este día; se muestra el último (pm.docx).",
		"Resumen de alertas vigentes (según el informe)", "Regional, excepto provincia de Isla de Pascua", "Provincia de Los Andes",
		"Avisos, alertas y alarmas meteorológicas", "Alerta AA42/2025",
		"Índice UV", "1 (Bajo)",
		"Datos hidrométricos", "Río Aconcagua en Chacabuquito", "1,15 m / 17,22 m³/s",
		"Estado de carreteras", "Habilitado con precaución",
		"Puertos", "Hanga Roa",
		"Pasos fronterizos", "Los Libertadores", "Hasta nuevo aviso por condición meteorológica",
		"Emergencias de las últimas 24 horas", "Sin registros en el informe.",
	} {
		if !strings.Contains(ft, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if strings.Contains(ft, "Sismo") {
		t.Error("the PDF prints the day's earlier document, not only the latest")
	}
	if n, s := strings.Index(ft, "Novedades"), strings.Index(ft, "Informe de situación regional PM"); s < n {
		t.Errorf("the informe's sections (at %d) come before the novedades (at %d)", s, n)
	}
}
