package domain

import (
	"errors"
	"reflect"
	"testing"
)

func TestLogAddAndCorrect(t *testing.T) {
	l := &Log{}
	add := AddLogEntry{EntryID: "e1", Date: "2026-01-15", Text: "Sin novedad", Comunas: []string{"Quilpue"}, By: "ana", At: t0}
	evs, err := l.Decide(add)
	if err != nil {
		t.Fatal(err)
	}
	l.Apply(evs[0])
	e := l.Entry("e1")
	if e.Category != CategoryNovedad || !reflect.DeepEqual(e.Comunas, []string{"05801"}) || e.Version != 1 {
		t.Fatalf("got %+v", e)
	}
	before := l.Entry("e1")

	evs, err = l.Decide(CorrectLogEntry{EntryID: "e1", Text: "Incendio menor controlado", Reason: "error de digitación", By: "beto", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	l.Apply(evs[0])
	after := l.Entry("e1")
	if after.Text != "Incendio menor controlado" || after.Version != 2 || !after.Corrected || after.CorrectedBy != "beto" || after.By != "ana" {
		t.Fatalf("got %+v", after)
	}
	if before.Text != "Sin novedad" {
		t.Fatal("a correction must not mutate the entry a reader already holds")
	}

	t.Run("identical correction changes nothing", func(t *testing.T) {
		evs, err := l.Decide(CorrectLogEntry{EntryID: "e1", Text: "Incendio menor controlado"})
		if err != nil || len(evs) != 0 {
			t.Fatalf("got %v %v, want no events", evs, err)
		}
	})
	t.Run("missing entry", func(t *testing.T) {
		if _, err := l.Decide(CorrectLogEntry{EntryID: "nope", Text: "x"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("duplicate id", func(t *testing.T) {
		if _, err := l.Decide(add); !errors.Is(err, ErrRule) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		_, err := l.Decide(AddLogEntry{EntryID: "e2", Date: "ayer", Category: "chisme", Text: ""})
		f := fields(err)
		for _, k := range []string{"date", "category", "text"} {
			if f[k] == "" {
				t.Fatalf("got %v, want a message for %s", f, k)
			}
		}
	})
}
