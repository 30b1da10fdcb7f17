package domain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
)

// The hot paths of every write (Decide, then Apply while loading the
// stream) and of every read-model update (Decode, then Apply), so that a
// regression shows in benchstat. Run with `make bench` or
//
//	go test -run '^$' -bench . -benchmem ./domain

var benchAt = time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)

func benchDeclare() domain.DeclareAlert {
	return domain.DeclareAlert{
		ID: "0193a1e2-7c1d-7000-8000-000000000000", Hazard: domain.HazardIncendioForestal, Level: domain.LevelRoja,
		Scope: domain.Scope{Provincias: []string{"058"}, Comunas: []string{"05101", "Viña del Mar"}},
		Title: "Incendio forestal en Quilpué", Description: "Alerta Roja por incendio forestal que amenaza zonas habitadas.",
		At: benchAt,
	}
}

// benchStream is an alert's history: declared, then n-1 level and detail
// changes, as Load folds it before every command.
func benchStream(n int) []domain.Event {
	a := &domain.Alert{}
	evs, err := a.Decide(benchDeclare())
	if err != nil {
		panic(err)
	}
	a.Apply(evs[0])
	out := []domain.Event{evs[0]}
	for i := 1; len(out) < n; i++ {
		var c domain.EditAlert
		if i%2 == 0 {
			l := domain.LevelAmarilla
			if a.Level == domain.LevelAmarilla {
				l = domain.LevelRoja
			}
			c.Level = &l
		} else {
			t := fmt.Sprintf("Incendio forestal en Quilpué (%d)", i)
			c.Title = &t
		}
		c.At = benchAt.Add(time.Duration(i) * time.Minute)
		evs, err := a.Decide(c)
		if err != nil {
			panic(err)
		}
		for _, e := range evs {
			a.Apply(e)
			out = append(out, e)
		}
	}
	return out
}

func BenchmarkAlertDecide(b *testing.B) {
	b.Run("declare", func(b *testing.B) {
		c := benchDeclare()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (&domain.Alert{}).Decide(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("edit_level_and_title", func(b *testing.B) {
		a := &domain.Alert{}
		for _, e := range benchStream(10) {
			a.Apply(e)
		}
		level, title := domain.LevelAmarilla, "Incendio forestal en Quilpué y Villa Alemana"
		if a.Level == level {
			level = domain.LevelRoja
		}
		c := domain.EditAlert{Level: &level, Title: &title, Reason: "avance del fuego", At: benchAt.Add(time.Hour)}
		b.ReportAllocs()
		for b.Loop() {
			evs, err := a.Decide(c)
			if err != nil || len(evs) != 2 {
				b.Fatalf("got %d events, %v", len(evs), err)
			}
		}
	})
	b.Run("edit_scope", func(b *testing.B) {
		a := &domain.Alert{}
		for _, e := range benchStream(1) {
			a.Apply(e)
		}
		comunas := []string{"05801", "05804", "Limache"}
		c := domain.EditAlert{Comunas: &comunas, At: benchAt.Add(time.Hour)}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Decide(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAlertApply folds a 100-event alert stream: what the command
// path does on every edit before deciding (ns/op is per stream).
func BenchmarkAlertApply(b *testing.B) {
	evs := benchStream(100)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		a := &domain.Alert{}
		for _, e := range evs {
			a.Apply(e)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

type namedEvent struct {
	name  string
	event domain.Event
}

func benchEvents() []namedEvent {
	return []namedEvent{
		{"alert_declared", benchStream(1)[0]},
		{"level_changed", &domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, Reason: "avance del fuego", At: benchAt}},
		{"scope_changed", &domain.AlertScopeChanged{Provincias: []string{"051", "058"}, Comunas: []string{"05601"}, At: benchAt}},
		{"details_updated", &domain.AlertDetailsUpdated{Title: "Incendio forestal en Quilpué", Description: "Alerta Roja por incendio forestal que amenaza zonas habitadas.", At: benchAt}},
		{"alert_cancelled", &domain.AlertCancelled{Reason: "condiciones normalizadas", At: benchAt}},
		{"log_entry_added", &domain.LogEntryAdded{EntryID: "0193a1e2-7c1d-7000-8000-000000000001", Date: "2026-01-15", Category: domain.CategoryIncidente,
			Text: "Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.", Comunas: []string{"05101"}, By: "ana", At: benchAt}},
		{"shift_assigned", &domain.ShiftAssigned{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana Rojas", Operators: []string{"Pablo Soto", "Marta Díaz"}, At: benchAt}},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, ne := range benchEvents() {
		b.Run(ne.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := domain.Encode(ne.event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, ne := range benchEvents() {
		typ, schema, data, err := domain.Encode(ne.event)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(ne.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := domain.Decode(typ, schema, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
