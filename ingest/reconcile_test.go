package ingest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/ingest"
)

// sampleProposals parses the sample informe whose name contains part and
// returns its proposals.
func sampleProposals(tb testing.TB, part string) []ingest.Proposal {
	tb.Helper()
	for _, path := range samples(tb) {
		name := filepath.Base(path)
		if !strings.Contains(name, part) {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		inf, err := ingest.Parse(data, name)
		if err != nil {
			tb.Fatalf("Parse %s: %v", name, err)
		}
		return ingest.Propose(inf.Content.Alertas)
	}
	tb.Fatalf("no sample informe named like %q", part)
	return nil
}

// boardOf declares every proposal as it says, with IDs a0, a1, ...
func boardOf(ps []ingest.Proposal) []ingest.BoardAlert {
	out := make([]ingest.BoardAlert, len(ps))
	for i, p := range ps {
		out[i] = ingest.BoardAlert{ID: fmt.Sprintf("a%d", i), Hazard: p.Hazard, Level: p.Level, Scope: p.Scope, Version: 3, Title: p.Title()}
	}
	return out
}

// kinds lists each item as "kind:alert ID" (or "kind:row N").
func kinds(items []ingest.Item) []string {
	out := []string{}
	for _, it := range items {
		switch {
		case it.Alert != nil:
			out = append(out, string(it.Kind)+":"+it.Alert.ID)
		default:
			out = append(out, fmt.Sprintf("%s:row %d", it.Kind, it.Proposal.Row))
		}
	}
	return out
}

func TestSampleProposals(t *testing.T) {
	t.Run("the June informe's rows are all readable", func(t *testing.T) {
		ps := sampleProposals(t, "PM 11 06 25")
		want := []struct {
			level  domain.Level
			hazard domain.Hazard
			scope  domain.Scope
		}{
			{domain.LevelTempranaPreventiva, domain.HazardEventoMeteorologico, scope([]string{"051", "053", "054", "055", "056", "057", "058"}, nil)},
			{domain.LevelTempranaPreventiva, domain.HazardAlteracionSanitaria, continental},
			{domain.LevelAmarilla, domain.HazardAlteracionSanitaria, scope([]string{"053"}, nil)},
		}
		if len(ps) != len(want) {
			t.Fatalf("got %d proposals, want %d", len(ps), len(want))
		}
		for i, w := range want {
			p := ps[i]
			if !p.Actionable() || p.Level != w.level || p.Hazard != w.hazard || !reflect.DeepEqual(p.Scope, w.scope) || p.Row != i {
				t.Errorf("row %d: got %s %s %+v %q, want %s %s %+v", i, p.Level, p.Hazard, p.Scope, p.Problems, w.level, w.hazard, w.scope)
			}
		}
	})
}

func TestReconcileSamples(t *testing.T) {
	for _, part := range []string{"PM 11 06 25", "AM 11 07 25"} {
		t.Run(part, func(t *testing.T) {
			ps := sampleProposals(t, part)
			t.Run("an empty board misses every row", func(t *testing.T) {
				items := ingest.Reconcile(ps, nil)
				if len(items) != len(ps) {
					t.Fatalf("got %v, want %d missing", kinds(items), len(ps))
				}
				for i, it := range items {
					if it.Kind != ingest.KindMissing || it.Proposal.Row != i || it.Alert != nil || !it.Actionable {
						t.Errorf("item %d: got %+v, want an actionable missing row %d", i, it, i)
					}
					if want := "Falta en el tablero: " + ps[i].Title(); it.Summary != want {
						t.Errorf("item %d: got summary %q, want %q", i, it.Summary, want)
					}
				}
			})
			t.Run("a board that says what the informe says has no differences", func(t *testing.T) {
				if items := ingest.Reconcile(ps, boardOf(ps)); len(items) != 0 {
					t.Fatalf("got %v, want none", kinds(items))
				}
			})
			t.Run("one level off", func(t *testing.T) {
				board := boardOf(ps)
				last := len(board) - 1 // Amarilla in Los Andes in both samples
				board[last].Level = domain.LevelRoja
				items := ingest.Reconcile(ps, board)
				if got, want := kinds(items), []string{"level:" + board[last].ID}; !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
				it := items[0]
				if it.Proposal.Row != last || !it.Actionable || it.Alert.Version != 3 {
					t.Fatalf("got %+v, want row %d, actionable, the alert's version", it, last)
				}
				if !strings.Contains(it.Summary, "dice Alerta Amarilla y el tablero Alerta Roja") {
					t.Fatalf("got summary %q, want both levels", it.Summary)
				}
			})
			t.Run("one scope off", func(t *testing.T) {
				board := boardOf(ps)
				i := len(board) - 2 // Temprana Preventiva, Regional continental
				board[i].Scope = domain.Scope{Region: true}
				items := ingest.Reconcile(ps, board)
				if got, want := kinds(items), []string{"scope:" + board[i].ID}; !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
				if s := items[0].Summary; !strings.Contains(s, "«Regional continental»") || !strings.Contains(s, "toda la región") ||
					!strings.Contains(s, "sobran Juan Fernández y Isla de Pascua") {
					t.Fatalf("got summary %q, want both scopes and the difference", s)
				}
			})
			t.Run("one extra alert", func(t *testing.T) {
				board := append(boardOf(ps), ingest.BoardAlert{ID: "zz", Hazard: domain.HazardIncendioForestal, Level: domain.LevelRoja,
					Scope: domain.Scope{Comunas: []string{"05801"}}, Title: "Incendio forestal en Quilpué"})
				items := ingest.Reconcile(ps, board)
				if got, want := kinds(items), []string{"extra:zz"}; !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
				want := "En el tablero pero no en el informe: «Incendio forestal en Quilpué» (Alerta Roja por Incendio forestal en comuna de Quilpué)"
				if items[0].Summary != want || !items[0].Actionable || items[0].Proposal != nil {
					t.Fatalf("got %+v, want summary %q, actionable, no proposal", items[0], want)
				}
			})
			t.Run("item IDs are the same on every run", func(t *testing.T) {
				board := boardOf(ps)
				board[len(board)-1].Level = domain.LevelRoja
				board = append(board, ingest.BoardAlert{ID: "zz", Hazard: domain.HazardSismo, Level: domain.LevelRoja, Scope: domain.Scope{Region: true}})
				first := ingest.Reconcile(ps, board)
				again := ingest.Reconcile(sampleProposals(t, part), board)
				missing := ingest.Reconcile(ps, nil)
				ids := map[string]bool{}
				for i := range first {
					if first[i].ID != again[i].ID {
						t.Fatalf("got ID %s then %s, want the same", first[i].ID, again[i].ID)
					}
					ids[first[i].ID] = true
				}
				for _, it := range missing {
					ids[it.ID] = true
				}
				if len(ids) != len(first)+len(missing) {
					t.Fatalf("got duplicate IDs among %v and %v", first, missing)
				}
			})
		})
	}
}

func TestReconcile(t *testing.T) {
	propose := func(rows ...ingest.Alerta) []ingest.Proposal { return ingest.Propose(rows) }
	los := ingest.Alerta{Nivel: "Amarilla", Evento: "Alteración sanitaria", Cobertura: "Provincia de Los Andes"}
	cont := ingest.Alerta{Nivel: "Temprana Preventiva", Evento: "Alteración sanitaria", Cobertura: "Regional continental"}

	t.Run("level and scope both off give two items, level first", func(t *testing.T) {
		ps := propose(los)
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelRoja,
			Scope: domain.Scope{Comunas: []string{"05301"}}, Title: "Roja en Los Andes"}}
		items := ingest.Reconcile(ps, board)
		if got, want := kinds(items), []string{"level:a", "scope:a"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if items[0].ID == items[1].ID {
			t.Fatalf("got the same ID %s twice", items[0].ID)
		}
	})
	t.Run("nested scopes match the alert that says exactly the same", func(t *testing.T) {
		ps := propose(cont, los)
		board := []ingest.BoardAlert{
			{ID: "1-los-andes", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}},
			{ID: "2-continental", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelTempranaPreventiva, Scope: ps[0].Scope},
		}
		if items := ingest.Reconcile(ps, board); len(items) != 0 {
			t.Fatalf("got %v, want none", kinds(items))
		}
	})
	t.Run("the row with the same territory wins over a wider row", func(t *testing.T) {
		ps := propose(ingest.Alerta{Nivel: "Temprana Preventiva", Evento: "Alteración sanitaria", Cobertura: "Regional"}, cont)
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelTempranaPreventiva, Scope: ps[1].Scope}}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"missing:row 0"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("between rows of the same territory the one with the same level wins", func(t *testing.T) {
		ps := propose(los, ingest.Alerta{Nivel: "ATP", Evento: "Alteración sanitaria", Cobertura: "Provincia de Los Andes"})
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelTempranaPreventiva, Scope: ps[0].Scope}}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"missing:row 0"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("a wider alert on the board is the row's, with its scope off", func(t *testing.T) {
		ps := propose(cont, los)
		board := []ingest.BoardAlert{
			{ID: "los-andes", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}},
			{ID: "regional", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelTempranaPreventiva, Scope: domain.Scope{Region: true}},
		}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"scope:regional"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("another hazard does not match", func(t *testing.T) {
		ps := propose(los)
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardIncendioForestal, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}}}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"missing:row 0", "extra:a"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("a disjoint territory does not match", func(t *testing.T) {
		ps := propose(los)
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"058"}}}}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"missing:row 0", "extra:a"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("an alert matches one row only", func(t *testing.T) {
		ps := propose(los, ingest.Alerta{Nivel: "Amarilla", Evento: "Alteración sanitaria", Cobertura: "Comuna de Los Andes"})
		board := []ingest.BoardAlert{{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}}}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"missing:row 1"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("an otro row matches the otro alert whose title names it", func(t *testing.T) {
		ps := propose(ingest.Alerta{Nivel: "Amarilla", Evento: "Nevadas", Cobertura: "Provincia de Los Andes"})
		board := []ingest.BoardAlert{
			{ID: "heladas", Hazard: domain.HazardOtro, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}, Title: "Alerta Amarilla por Heladas"},
			{ID: "nevadas", Hazard: domain.HazardOtro, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}, Title: ps[0].Title()},
		}
		if got, want := kinds(ingest.Reconcile(ps, board)), []string{"extra:heladas"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("an unreadable row is reported and holds back extras of its hazard", func(t *testing.T) {
		ps := propose(ingest.Alerta{Nivel: "Amarilla", Evento: "Alteración sanitaria", Cobertura: "Sector cordillerano de Los Andes"})
		board := []ingest.BoardAlert{
			{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"053"}}, Title: "t"},
			{ID: "b", Hazard: domain.HazardSismo, Level: domain.LevelAmarilla, Scope: domain.Scope{Region: true}, Title: "s"},
		}
		items := ingest.Reconcile(ps, board)
		if got, want := kinds(items), []string{"unreadable:row 0", "extra:a", "extra:b"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if items[0].Actionable || items[1].Actionable || !items[2].Actionable {
			t.Fatalf("got actionable %v %v %v, want false false true", items[0].Actionable, items[1].Actionable, items[2].Actionable)
		}
		if !strings.HasPrefix(items[0].Summary, "Fila 1 del informe sin interpretar: no se pudo interpretar la cobertura") {
			t.Fatalf("got summary %q, want the row and its problem", items[0].Summary)
		}
		if !strings.Contains(items[1].Summary, "podría ser la fila 1") {
			t.Fatalf("got summary %q, want a pointer to the unreadable row", items[1].Summary)
		}
	})
	t.Run("the order does not depend on the board's order", func(t *testing.T) {
		ps := propose(cont, los, ingest.Alerta{Nivel: "Roja", Evento: "Tsunami", Cobertura: "Regional"})
		board := []ingest.BoardAlert{
			{ID: "c", Hazard: domain.HazardViento, Level: domain.LevelAmarilla, Scope: domain.Scope{Region: true}},
			{ID: "a", Hazard: domain.HazardAlteracionSanitaria, Level: domain.LevelRoja, Scope: domain.Scope{Provincias: []string{"053"}}},
			{ID: "b", Hazard: domain.HazardSismo, Level: domain.LevelAmarilla, Scope: domain.Scope{Region: true}},
		}
		first := ingest.Reconcile(ps, board)
		reversed := []ingest.BoardAlert{board[2], board[1], board[0]}
		second := ingest.Reconcile(ps, reversed)
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("got %v then %v, want the same", kinds(first), kinds(second))
		}
		if got, want := kinds(first), []string{"missing:row 0", "level:a", "missing:row 2", "extra:b", "extra:c"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("the caller's slices are not changed", func(t *testing.T) {
		ps := propose(los)
		board := []ingest.BoardAlert{{ID: "b"}, {ID: "a"}}
		items := ingest.Reconcile(ps, board)
		items[0].Proposal.Row = 99
		if ps[0].Row != 0 || board[0].ID != "b" {
			t.Fatalf("got %+v %+v, want them untouched", ps, board)
		}
	})
}

func TestDescribeScope(t *testing.T) {
	tests := []struct {
		name  string
		scope domain.Scope
		want  string
	}{
		{"region", domain.Scope{Region: true}, "toda la región"},
		{"continental", continental, "la región continental"},
		{"one province", domain.Scope{Provincias: []string{"053"}}, "provincia de Los Andes"},
		{"provinces and comunas", domain.Scope{Provincias: []string{"053", "058"}, Comunas: []string{"05101", "05109", "05103"}},
			"provincias de Los Andes y Marga Marga y comunas de Valparaíso, Viña del Mar y Concón"},
		{"nothing", domain.Scope{}, "ningún territorio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ingest.DescribeScope(tt.scope); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
