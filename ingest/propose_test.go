package ingest_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/ingest"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		text   string
		want   domain.Level
		wantOK bool
	}{
		{"Temprana Preventiva", domain.LevelTempranaPreventiva, true},
		{"Alerta Temprana Preventiva", domain.LevelTempranaPreventiva, true},
		{"ATP", domain.LevelTempranaPreventiva, true},
		{"A.T.P.", domain.LevelTempranaPreventiva, true},
		{"Alerta Temprana Preventiva (ATP)", domain.LevelTempranaPreventiva, true},
		{"  temprana\npreventiva ", domain.LevelTempranaPreventiva, true},
		{"Amarilla", domain.LevelAmarilla, true},
		{"ALERTA AMARILLA", domain.LevelAmarilla, true},
		{"Roja", domain.LevelRoja, true},
		{"Alerta roja.", domain.LevelRoja, true},
		{"Naranja", "", false},
		{"Alerta", "", false},
		{"", "", false},
		{"Amarilla y Roja", "", false},
	}
	for _, tt := range tests {
		t.Run("reads "+tt.text, func(t *testing.T) {
			got, ok := ingest.ParseLevel(tt.text)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("got %q %v, want %q %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseHazard(t *testing.T) {
	tests := []struct {
		text string
		want domain.Hazard
	}{
		{"Meteorológico", domain.HazardEventoMeteorologico},
		{"Evento meteorológico", domain.HazardEventoMeteorologico},
		{"Alteración Sanitaria", domain.HazardAlteracionSanitaria},
		{"ALTERACION SANITARIA", domain.HazardAlteracionSanitaria},
		{"Incendio Forestal", domain.HazardIncendioForestal},
		{"Incendios forestales", domain.HazardIncendioForestal},
		{"Actividad volcánica", domain.HazardActividadVolcanica},
		{"Sismo", domain.HazardSismo},
		{"Sismo de mayor intensidad", domain.HazardSismo},
		{"Inundación", domain.HazardInundacion},
		{"Inundaciones", domain.HazardInundacion},
		{"Déficit hídrico", domain.HazardDeficitHidrico},
		{"Marejadas", domain.HazardMarejadas},
		{"Sistema Frontal", domain.HazardSistemaFrontal},
		{"Tormentas eléctricas", domain.HazardTormentaElectrica},
		{"Remoción en masa", domain.HazardRemocionEnMasa},
		{"Tsunami", domain.HazardTsunami},
		{"Calor extremo", domain.HazardCalorExtremo},
		{"Viento", domain.HazardViento},
		{"Evento masivo", domain.HazardEventoMasivo},
		{"Nevadas", domain.HazardOtro},
		{"Incendio estructural", domain.HazardOtro},
		{"Marejadas e inundaciones costeras", domain.HazardOtro},
		{"", domain.HazardOtro},
	}
	for _, tt := range tests {
		t.Run("reads "+tt.text, func(t *testing.T) {
			if got := ingest.ParseHazard(tt.text); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProposeAlert(t *testing.T) {
	t.Run("a readable row is actionable", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "Amarilla", Evento: "Alteración Sanitaria", Cobertura: "Provincia de Los Andes", Amplitud: "SINAPRED"})
		want := ingest.Proposal{
			Alerta: ingest.Alerta{Nivel: "Amarilla", Evento: "Alteración Sanitaria", Cobertura: "Provincia de Los Andes", Amplitud: "SINAPRED"},
			Level:  domain.LevelAmarilla, Hazard: domain.HazardAlteracionSanitaria, HazardText: "Alteración Sanitaria",
			Scope: scope([]string{"053"}, nil),
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("got %+v, want %+v", p, want)
		}
		if !p.Actionable() {
			t.Fatalf("got not actionable, want actionable")
		}
		if got, want := p.Title(), "Alerta Amarilla por Alteración sanitaria en Provincia de Los Andes"; got != want {
			t.Fatalf("got title %q, want %q", got, want)
		}
	})
	t.Run("an unknown event is otro with its text kept", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "Temprana Preventiva", Evento: "Nevadas\nen cordillera", Cobertura: "Regional"})
		if p.Hazard != domain.HazardOtro || p.HazardText != "Nevadas en cordillera" {
			t.Fatalf("got %q %q, want otro with the text", p.Hazard, p.HazardText)
		}
		if !p.Actionable() {
			t.Fatalf("got problems %q, want none", p.Problems)
		}
		if got, want := p.Title(), "Alerta Temprana Preventiva por Nevadas en cordillera en Regional"; got != want {
			t.Fatalf("got title %q, want %q", got, want)
		}
	})
	t.Run("an unknown level is a problem", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "Naranja", Evento: "Sismo", Cobertura: "Regional"})
		if p.Actionable() || len(p.Problems) != 1 || p.Problems[0] != "no se reconoce el nivel «Naranja»" {
			t.Fatalf("got problems %q, want the level named", p.Problems)
		}
		if p.Level != "" {
			t.Fatalf("got level %q, want none", p.Level)
		}
	})
	t.Run("a missing event is a problem", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "Roja", Evento: "-", Cobertura: "Regional"})
		if p.Actionable() {
			t.Fatalf("got actionable, want a problem")
		}
	})
	t.Run("an unreadable cobertura leaves the scope empty", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "Roja", Evento: "Incendio forestal", Cobertura: "Sector alto de Quilpué"})
		if p.Actionable() || !reflect.DeepEqual(p.Scope, domain.Scope{}) {
			t.Fatalf("got scope %+v problems %q, want no scope and a problem", p.Scope, p.Problems)
		}
		if !strings.HasPrefix(p.Problems[0], "no se pudo interpretar la cobertura «Sector alto de Quilpué»: ") {
			t.Fatalf("got problem %q, want it to name the cobertura", p.Problems[0])
		}
	})
	t.Run("every problem is listed", func(t *testing.T) {
		p := ingest.ProposeAlert(ingest.Alerta{Nivel: "?", Evento: "", Cobertura: "Marte"})
		if len(p.Problems) != 3 {
			t.Fatalf("got problems %q, want three", p.Problems)
		}
	})
}

func TestPropose(t *testing.T) {
	t.Run("numbers the rows in order", func(t *testing.T) {
		ps := ingest.Propose([]ingest.Alerta{
			{Nivel: "Amarilla", Evento: "Sismo", Cobertura: "Regional"},
			{Nivel: "Roja", Evento: "Tsunami", Cobertura: "Regional"},
		})
		if len(ps) != 2 || ps[0].Row != 0 || ps[1].Row != 1 || ps[1].Hazard != domain.HazardTsunami {
			t.Fatalf("got %+v, want rows 0 and 1 in order", ps)
		}
	})
	t.Run("no rows give no proposals", func(t *testing.T) {
		if ps := ingest.Propose(nil); len(ps) != 0 {
			t.Fatalf("got %+v, want none", ps)
		}
	})
}
