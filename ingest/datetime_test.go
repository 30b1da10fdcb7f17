package ingest_test

import (
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want string
		warns    bool
	}{
		{"Miércoles 11 de junio 2025", "2025-06-11", false},
		{"miércoles, 28 de mayo de 2025", "2025-05-28", false},
		{"Lunes 09 de junio 2025", "2025-06-09", false},
		{"Viernes 11 de julio 2025", "2025-07-11", false},
		{"  MIERCOLES   11 DE JUNIO  DEL 2025 ", "2025-06-11", false},
		{"Sábado 1 de marzo de 2025", "2025-03-01", false},
		{"11 de septiembre 2025", "2025-09-11", false},
		{"11 de setiembre de 2025", "2025-09-11", false},
		{"11 jun. 2025", "2025-06-11", false},
		{"11/06/2025", "2025-06-11", false},
		{"11-06-25", "2025-06-11", false},
		{"2025-06-11", "2025-06-11", false},
		{"Valparaíso, Miércoles 11 de junio 2025 – 18:45 horas", "2025-06-11", false},
		{"Martes 11 de junio 2025", "2025-06-11", true}, // stale weekday
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, warn, ok := ingest.ParseDate(tt.in)
			if !ok || got != tt.want {
				t.Errorf("got %q ok=%v, want %q", got, ok, tt.want)
			}
			if (warn != "") != tt.warns {
				t.Errorf("warning %q, want warning=%v", warn, tt.warns)
			}
		})
	}
	for _, bad := range []string{"", "-", "31 de junio 2025", "30 de febrero 2025", "11 de juño 2025", "hoy", "32/01/2025", "11/13/2025"} {
		if got, _, ok := ingest.ParseDate(bad); ok {
			t.Errorf("ParseDate(%q) = %q, want no date", bad, got)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"18:45 horas", "18:45"},
		{"0:35 h.", "00:35"},
		{"18:15 hrs.", "18:15"},
		{"09:35 horas", "09:35"},
		{"9:05", "09:05"},
		{"18.45 hrs", "18:45"},
		{" 18 : 45 ", "18:45"},
		{"Valparaíso, Miércoles 11 de junio 2025 – 18:45 horas", "18:45"},
	}
	for _, tt := range tests {
		if got, ok := ingest.ParseTime(tt.in); !ok || got != tt.want {
			t.Errorf("ParseTime(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{" h.", "", "horas", "25:00 horas", "18:75", "-"} {
		if got, ok := ingest.ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) = %q, want no time", bad, got)
		}
	}
}

func TestEditionFromName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Informe Situación Regional PM 11 06 25.docx", "PM"},
		{"Informe Situación Regional AM 11 07 25.docx", "AM"},
		{"Informe-Situacion-Regional-am-11-07-2025.docx", "AM"},
		{"Informe.Situacion.Regional.PM.11.06.2025.docx", "PM"},
		{"INFORME DE SITUACIÓN REGIONAL PM", "PM"},
		{"informe_AM.docx", "AM"},
		{"Informe Situación Regional 11 06 25.docx", ""},
		{"Programa de trabajo.docx", ""}, // "am" inside a word
		{"Informe AM y PM.docx", ""},     // both: unknown
	}
	for _, tt := range tests {
		if got := ingest.EditionFromName(tt.in); got != tt.want {
			t.Errorf("EditionFromName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEditionFromTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"00:35", "AM"}, {"09:35", "AM"}, {"11:59", "AM"}, {"12:00", "PM"}, {"18:45", "PM"}, {"", ""},
	}
	for _, tt := range tests {
		if got := ingest.EditionFromTime(tt.in); got != tt.want {
			t.Errorf("EditionFromTime(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEditionAndTimeInInforme: the edition comes from the file name, else
// the title, else the time; a missing time is null with a warning.
func TestEditionAndTimeInInforme(t *testing.T) {
	tests := []struct {
		name, title, hora, closing string
		wantEd, wantTime           string
		wantWarn                   bool
	}{
		{name: "Informe Situación Regional AM 11 06 25.docx", hora: "0:35 h.", wantEd: "AM", wantTime: "00:35"},
		{name: "informe.docx", hora: "18:15 hrs.", wantEd: "PM", wantTime: "18:15"},
		{name: "informe.docx", title: "INFORME DE SITUACIÓN REGIONAL AM", hora: "09:35 horas", wantEd: "AM", wantTime: "09:35"},
		{name: "Informe PM 11-06-2025.docx", hora: " h.", wantEd: "PM", wantTime: "", wantWarn: true},
		{name: "Informe PM.docx", hora: " h.", closing: "Valparaíso, Miércoles 11 de junio 2025 – 18:45 horas", wantEd: "PM", wantTime: "18:45", wantWarn: true},
		{name: "Informe AM.docx", hora: "18:45 horas", wantEd: "AM", wantTime: "18:45", wantWarn: true}, // disagreement
	}
	for _, tt := range tests {
		t.Run(tt.name+tt.hora, func(t *testing.T) {
			in := fullInforme()
			in.hora = tt.hora
			body := p("", tt.title) + in.body() + p("", tt.closing)
			inf, err := ingest.Parse(docx(t, body), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if inf.Edition != tt.wantEd || inf.Time != tt.wantTime || inf.Content.Edition != tt.wantEd {
				t.Errorf("got %s %q, want %s %q", inf.Edition, inf.Time, tt.wantEd, tt.wantTime)
			}
			if (tt.wantTime == "") != (inf.Content.Time == nil) {
				t.Errorf("Content.Time = %v, want %q", inf.Content.Time, tt.wantTime)
			}
			if (len(inf.Warnings) > 0) != tt.wantWarn {
				t.Errorf("warnings %q, want some=%v", inf.Warnings, tt.wantWarn)
			}
		})
	}
}
