package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)

func declared(t *testing.T, c DeclareAlert) *Alert {
	t.Helper()
	a := &Alert{}
	evs, err := a.Decide(c)
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	for _, e := range evs {
		a.Apply(e)
	}
	return a
}

func validDeclare() DeclareAlert {
	return DeclareAlert{ID: "a1", Hazard: HazardIncendioForestal, Level: LevelAmarilla,
		Scope: Scope{Comunas: []string{"Viña del Mar", "05801"}}, Title: "Incendio", At: t0}
}

func fields(err error) map[string]string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return nil
}

func TestDeclareAlert(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(*DeclareAlert)
		wantFields []string
	}{
		{"valid with comuna names resolved to codes", func(*DeclareAlert) {}, nil},
		{"unknown hazard", func(c *DeclareAlert) { c.Hazard = "meteorito" }, []string{"hazard"}},
		{"unknown level", func(c *DeclareAlert) { c.Level = "naranja" }, []string{"level"}},
		{"missing title", func(c *DeclareAlert) { c.Title = "  " }, []string{"title"}},
		{"title too long", func(c *DeclareAlert) { c.Title = string(make([]rune, MaxTitle+1)) }, []string{"title"}},
		{"comuna of another region", func(c *DeclareAlert) { c.Scope.Comunas = []string{"Santiago"} }, []string{"comunas"}},
		{"no scope", func(c *DeclareAlert) { c.Scope = Scope{} }, []string{"region"}},
		{"region with comunas", func(c *DeclareAlert) { c.Scope.Region = true }, []string{"region"}},
		{"unknown provincia", func(c *DeclareAlert) { c.Scope.Provincias = []string{"099"} }, []string{"provincias"}},
		{"several errors at once", func(c *DeclareAlert) { c.Level, c.Title = "x", "" }, []string{"level", "title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validDeclare()
			tt.mutate(&c)
			evs, err := (&Alert{}).Decide(c)
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				d := evs[0].(*AlertDeclared)
				if want := []string{"05109", "05801"}; !reflect.DeepEqual(d.Comunas, want) {
					t.Fatalf("got comunas %v, want %v", d.Comunas, want)
				}
				return
			}
			got := fields(err)
			if len(got) != len(tt.wantFields) {
				t.Fatalf("got fields %v, want %v", got, tt.wantFields)
			}
			for _, f := range tt.wantFields {
				if got[f] == "" {
					t.Fatalf("got fields %v, want a message for %q", got, f)
				}
			}
		})
	}
}

func TestDeclareTwiceIsARuleError(t *testing.T) {
	a := declared(t, validDeclare())
	_, err := a.Decide(validDeclare())
	if !errors.Is(err, ErrRule) {
		t.Fatalf("got %v, want ErrRule", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEditAlert(t *testing.T) {
	tests := []struct {
		name      string
		edit      EditAlert
		wantTypes []string
		check     func(t *testing.T, a *Alert)
	}{
		{"raise level", EditAlert{Level: ptr(LevelRoja), Reason: "se declara Alerta Roja"}, []string{"alert.level_changed"},
			func(t *testing.T, a *Alert) {
				if a.Level != LevelRoja {
					t.Fatalf("got level %v, want roja", a.Level)
				}
			}},
		{"same level changes nothing", EditAlert{Level: ptr(LevelAmarilla)}, nil, nil},
		{"title and scope in one patch", EditAlert{Title: ptr("Nuevo"), Comunas: &[]string{"Quilpué"}}, []string{"alert.scope_changed", "alert.details_updated"},
			func(t *testing.T, a *Alert) {
				if a.Title != "Nuevo" || !reflect.DeepEqual(a.Scope.Comunas, []string{"05801"}) {
					t.Fatalf("got %q %v", a.Title, a.Scope.Comunas)
				}
			}},
		{"to whole region clears comunas", EditAlert{Region: ptr(true)}, []string{"alert.scope_changed"},
			func(t *testing.T, a *Alert) {
				if !a.Scope.Region || len(a.Scope.Comunas) != 0 {
					t.Fatalf("got scope %+v", a.Scope)
				}
			}},
		{"all three kinds", EditAlert{Level: ptr(LevelRoja), Provincias: &[]string{"058"}, Comunas: &[]string{}, Description: ptr("d")},
			[]string{"alert.level_changed", "alert.scope_changed", "alert.details_updated"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := declared(t, validDeclare())
			tt.edit.At = t0.Add(time.Hour)
			evs, err := a.Decide(tt.edit)
			if err != nil {
				t.Fatalf("got %v", err)
			}
			var types []string
			for _, e := range evs {
				types = append(types, e.EventType())
				a.Apply(e)
			}
			if !reflect.DeepEqual(types, tt.wantTypes) {
				t.Fatalf("got events %v, want %v", types, tt.wantTypes)
			}
			if len(evs) > 0 && !a.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("got updated_at %v", a.UpdatedAt)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestEditAlertRejections(t *testing.T) {
	t.Run("unknown level", func(t *testing.T) {
		a := declared(t, validDeclare())
		_, err := a.Decide(EditAlert{Level: ptr(Level("verde"))})
		if fields(err)["level"] == "" {
			t.Fatalf("got %v, want a level field error", err)
		}
	})
	t.Run("emptying the scope", func(t *testing.T) {
		a := declared(t, validDeclare())
		_, err := a.Decide(EditAlert{Comunas: &[]string{}})
		if fields(err)["region"] == "" {
			t.Fatalf("got %v, want a scope error", err)
		}
	})
	t.Run("edit of a cancelled alert", func(t *testing.T) {
		a := declared(t, validDeclare())
		evs, err := a.Decide(CancelAlert{Reason: "fin", At: t0})
		if err != nil {
			t.Fatal(err)
		}
		a.Apply(evs[0])
		if a.Status != StatusCancelada || a.CancelReason != "fin" {
			t.Fatalf("got %v %q", a.Status, a.CancelReason)
		}
		for _, c := range []Command{EditAlert{Title: ptr("x")}, CancelAlert{}} {
			var re *RuleError
			if _, err := a.Decide(c); !errors.As(err, &re) || re.Code != "alert_cancelled" {
				t.Fatalf("%T: got %v, want alert_cancelled", c, err)
			}
		}
	})
	t.Run("edit of a missing alert", func(t *testing.T) {
		if _, err := (&Alert{}).Decide(EditAlert{Title: ptr("x")}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
}

func TestScopeComunaCodes(t *testing.T) {
	s := Scope{Provincias: []string{"058"}, Comunas: []string{"05109", "05801"}}
	got := s.ComunaCodes()
	want := []string{"05109", "05801", "05802", "05803", "05804"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := len(Scope{Region: true}.ComunaCodes()); n != 38 {
		t.Fatalf("got %d comunas for the region, want 38", n)
	}
}

func TestLookupComunaAliasesAndAccents(t *testing.T) {
	for in, want := range map[string]string{"La Calera": "05502", "Llay Llay": "05703", "CONCON": "05103", "concón": "05103", "05109": "05109", " Viña  del Mar ": "05109"} {
		c, ok := LookupComuna(in)
		if !ok || c.Code != want {
			t.Fatalf("LookupComuna(%q) = %v %v, want %s", in, c.Code, ok, want)
		}
	}
	if _, ok := LookupComuna("Santiago"); ok {
		t.Fatal("Santiago is not in the Valparaíso region")
	}
}

func TestHazards(t *testing.T) {
	tests := []struct {
		hazard Hazard
		label  string
	}{
		{"incendio_forestal", "Incendio forestal"},
		{"sistema_frontal", "Sistema frontal"},
		{"evento_meteorologico", "Evento meteorológico"},
		{"tormenta_electrica", "Tormentas eléctricas"},
		{"viento", "Viento"},
		{"calor_intenso", "Calor intenso"},
		{"calor_extremo", "Calor extremo"},
		{"marejadas", "Marejadas"},
		{"tsunami", "Tsunami"},
		{"remocion_en_masa", "Remoción en masa"},
		{"evento_masivo", "Evento masivo"},
		{"alteracion_sanitaria", "Alteración sanitaria"},
		{"actividad_volcanica", "Actividad volcánica"},
		{"sismo", "Sismo"},
		{"inundacion", "Inundación"},
		{"deficit_hidrico", "Déficit hídrico"},
		{"otro", "Otro"},
	}
	for _, tt := range tests {
		t.Run(string(tt.hazard)+" is known with its label", func(t *testing.T) {
			if !tt.hazard.Valid() {
				t.Fatalf("got Valid() false, want true")
			}
			if got := tt.hazard.Label(); got != tt.label {
				t.Fatalf("got label %q, want %q", got, tt.label)
			}
		})
	}
	t.Run("Hazards lists every code once, sorted", func(t *testing.T) {
		got := Hazards()
		if len(got) != len(tests) {
			t.Fatalf("got %d hazards, want %d", len(got), len(tests))
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("got %v, want sorted and unique", got)
			}
		}
	})
}
