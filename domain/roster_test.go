package domain

import (
	"encoding/json"
	"errors"
	"testing"
)

func assign(t *testing.T, r *Roster, c AssignShift) error {
	t.Helper()
	evs, err := r.Decide(c)
	if err != nil {
		return err
	}
	for _, e := range evs {
		r.Apply(e)
	}
	return nil
}

func TestRosterAssign(t *testing.T) {
	day := AssignShift{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", Operators: []string{"Beto", "beto", " "}}
	tests := []struct {
		name   string
		setup  []AssignShift
		cmd    AssignShift
		field  string
		rule   string
		wantOK bool
	}{
		{name: "valid, duplicates and blanks dropped", cmd: day, wantOK: true},
		{name: "bad date", cmd: func() AssignShift { c := day; c.Date = "2026-02-30"; return c }(), field: "date"},
		{name: "bad slot", cmd: func() AssignShift { c := day; c.Slot = "Día!"; return c }(), field: "slot"},
		{name: "bad time", cmd: func() AssignShift { c := day; c.Start = "24:00"; return c }(), field: "start"},
		{name: "zero length", cmd: func() AssignShift { c := day; c.End = "08:00"; return c }(), field: "end"},
		{name: "nobody", cmd: func() AssignShift { c := day; c.Lead, c.Operators = "", nil; return c }(), field: "operators"},
		{name: "same person in overlapping slot", setup: []AssignShift{day},
			cmd: AssignShift{Date: day.Date, Slot: "enlace", Start: "19:00", End: "23:00", Operators: []string{"ANA"}}, rule: "shift_overlap"},
		{name: "same person in a later slot", setup: []AssignShift{day},
			cmd: AssignShift{Date: day.Date, Slot: "noche", Start: "20:00", End: "08:00", Operators: []string{"Ana"}}, wantOK: true},
		{name: "night slot crossing midnight overlaps an evening one", setup: []AssignShift{{Date: day.Date, Slot: "noche", Start: "22:00", End: "06:00", Lead: "Ana"}},
			cmd: AssignShift{Date: day.Date, Slot: "tarde", Start: "16:00", End: "23:00", Lead: "Ana"}, rule: "shift_overlap"},
		{name: "replacing the same slot is not an overlap", setup: []AssignShift{day},
			cmd: func() AssignShift { c := day; c.End = "21:00"; return c }(), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Roster{}
			for _, s := range tt.setup {
				if err := assign(t, r, s); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			err := assign(t, r, tt.cmd)
			switch {
			case tt.wantOK:
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				sh := r.Slots[tt.cmd.Slot]
				if sh == nil || sh.Start != tt.cmd.Start {
					t.Fatalf("got shift %+v", sh)
				}
			case tt.field != "":
				if fields(err)[tt.field] == "" {
					t.Fatalf("got %v, want field error on %s", err, tt.field)
				}
			default:
				var re *RuleError
				if !errors.As(err, &re) || re.Code != tt.rule {
					t.Fatalf("got %v, want rule %s", err, tt.rule)
				}
			}
		})
	}
}

func TestRosterSlotVersions(t *testing.T) {
	r := &Roster{}
	c := AssignShift{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", Operators: []string{"Beto", "beto"}}
	if err := assign(t, r, c); err != nil {
		t.Fatal(err)
	}
	if got := r.Slots["dia"].Operators; len(got) != 1 {
		t.Fatalf("got operators %v, want duplicates removed", got)
	}
	evs, err := r.Decide(UnassignShift{Date: c.Date, Slot: "dia"})
	if err != nil {
		t.Fatal(err)
	}
	r.Apply(evs[0])
	v, assigned := r.SlotVersion("dia")
	if v != 2 || assigned {
		t.Fatalf("got version %d assigned %v, want 2 false", v, assigned)
	}
	if _, err := r.Decide(UnassignShift{Date: c.Date, Slot: "dia"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if err := assign(t, r, c); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.SlotVersion("dia"); v != 3 {
		t.Fatalf("got version %d, want 3", v)
	}
}

// Read models store a Roster as JSON (the Postgres one in its state
// table): a field renamed in Go must keep the name stored rows use.
func TestRosterJSONNames(t *testing.T) {
	b, err := json.Marshal(&Roster{Date: "2026-01-15", Slots: map[string]*Shift{}, SlotVersions: map[string]uint64{"dia": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"Date":"2026-01-15","Slots":{},"Revisions":{"dia":2}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
