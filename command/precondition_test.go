package command_test

import (
	"errors"
	"testing"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
)

// Each precondition against each kind of item: a stale edit is refused
// with a *StaleError carrying the current state and versions, a missing
// item with domain.ErrNotFound, and neither appends anything.
func TestPreconditions(t *testing.T) {
	store := newStore(t)
	h := command.New(store)
	ctx := t.Context()
	const day = "2026-02-03"
	roster, log := domain.RosterStream(day), domain.LogStream(day)
	must := func(stream string, c domain.Command) {
		t.Helper()
		if _, err := h.Execute(ctx, stream, meta, nil, command.Command(c)); err != nil {
			t.Fatalf("%s %T: %v", stream, c, err)
		}
	}
	declare(t, h)
	edit(t, h, 0, "uno") // the alert is at version 1
	must(roster, domain.AssignShift{Date: day, Slot: "am", Start: "08:00", End: "16:00", Lead: "ana", At: at})
	must(roster, domain.AssignShift{Date: day, Slot: "pm", Start: "16:00", End: "23:00", Lead: "beto", At: at})
	must(roster, domain.UnassignShift{Date: day, Slot: "pm", At: at}) // am at 1; pm empty at 2
	must(log, domain.AddLogEntry{EntryID: "e1", Date: day, Text: "uno", By: "ana", At: at})
	must(log, domain.CorrectLogEntry{EntryID: "e1", Text: "uno bis", Reason: "error", By: "ana", At: at}) // e1 at 2

	am, pm, never := command.Slot{Date: day, Name: "am"}, command.Slot{Date: day, Name: "pm"}, command.Slot{Date: day, Name: "noche"}
	tests := []struct {
		name   string
		stream string
		pre    command.Precondition
		// wantStale is the refusal expected, nil if none.
		wantStale    *command.StaleError
		wantNotFound bool
	}{
		{name: "alert at its version", stream: alert, pre: command.IfVersion(command.Stream{}, 1)},
		{name: "alert at an old version", stream: alert, pre: command.IfVersion(command.Stream{}, 0),
			wantStale: &command.StaleError{Item: command.Stream{}, Expected: 0, Actual: 1}},
		{name: "missing alert", stream: domain.AlertStream("0193a1e2-7c1d-7000-8000-00000000000f"), pre: command.IfVersion(command.Stream{}, 0), wantNotFound: true},
		{name: "slot at a newer version", stream: roster, pre: command.IfVersion(am, 2),
			wantStale: &command.StaleError{Item: am, Expected: 2, Actual: 1}},
		{name: "empty slot", stream: roster, pre: command.IfVersion(pm, 2), wantNotFound: true},
		{name: "empty slot at its version, even if absent", stream: roster, pre: command.IfVersionEvenIfAbsent(pm, 2)},
		{name: "empty slot at an old version, even if absent", stream: roster, pre: command.IfVersionEvenIfAbsent(pm, 1),
			wantStale: &command.StaleError{Item: pm, Expected: 1, Actual: 2}},
		{name: "slot never touched at version 0, even if absent", stream: roster, pre: command.IfVersionEvenIfAbsent(never, 0)},
		{name: "assigned slot expected absent", stream: roster, pre: command.IfAbsent(am),
			wantStale: &command.StaleError{Item: am, ExpectedAbsent: true, Actual: 1}},
		{name: "emptied slot expected absent", stream: roster, pre: command.IfAbsent(pm)},
		{name: "log entry at an old version", stream: log, pre: command.IfVersion(command.LogEntry{ID: "e1"}, 1),
			wantStale: &command.StaleError{Item: command.LogEntry{ID: "e1"}, Expected: 1, Actual: 2}},
		{name: "missing log entry", stream: log, pre: command.IfVersion(command.LogEntry{ID: "e9"}, 1), wantNotFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := h.Load(ctx, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			var called bool
			build := func(command.Loaded) (domain.Command, error) {
				called = true
				return nil, errors.New("passed: not executed")
			}
			_, err = h.Execute(ctx, tt.stream, meta, tt.pre, build)
			var stale *command.StaleError
			switch {
			case tt.wantNotFound:
				if !errors.Is(err, domain.ErrNotFound) || errors.As(err, &stale) {
					t.Fatalf("got %v, want not found", err)
				}
			case tt.wantStale != nil:
				if !errors.As(err, &stale) || !errors.Is(err, command.ErrStale) {
					t.Fatalf("got %v, want a *StaleError", err)
				}
				w := tt.wantStale
				if stale.Item != w.Item || stale.Expected != w.Expected || stale.ExpectedAbsent != w.ExpectedAbsent || stale.Actual != w.Actual {
					t.Fatalf("got %s %+v, want %s %+v", stale.Item, *stale, w.Item, *w)
				}
				if stale.Stream != tt.stream || stale.Revision != before.Revision || stateJSON(t, stale.Loaded) != stateJSON(t, before) {
					t.Fatalf("stale carries %s at %d, want the current state at %d", stale.Stream, stale.Revision, before.Revision)
				}
			default:
				if !called {
					t.Fatalf("got %v, want the precondition to pass", err)
				}
				return
			}
			if called {
				t.Fatal("the command was built after a refused precondition")
			}
			after, err := h.Load(ctx, tt.stream)
			if err != nil || after.Revision != before.Revision || after.Exists() != before.Exists() {
				t.Fatalf("a refused edit changed the stream: %d, %v", after.Revision, err)
			}
		})
	}
}
