package domain

import (
	"strings"
	"testing"
)

// Issue 14, item 12: text that is not text, and dates no one means.
func TestTextFieldsRefuseBytesThatAreNotText(t *testing.T) {
	tests := []struct {
		name      string
		cmd       Command
		agg       Aggregate
		wantField string // "" when the command must pass
	}{
		{"NUL in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Sin\x00novedad"}, &Log{}, "text"},
		{"invalid UTF-8 in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Sin \xff novedad"}, &Log{}, "text"},
		{"escape character in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Sin \x1b[31mnovedad"}, &Log{}, "text"},
		{"DEL in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Sin\x7fnovedad"}, &Log{}, "text"},
		{"C1 control in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Sin\u0085novedad"}, &Log{}, "text"},
		{"lines and tabs in a novedad", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Ronda:\n\t- sin novedad\r\n\t- todo bien"}, &Log{}, ""},
		{"accents and U+FFFD as written", AddLogEntry{EntryID: "e", Date: "2026-01-15", Text: "Quilpué: señal � débil"}, &Log{}, ""},
		{"line break in a title", withTitle("Incendio\nQuilpué"), &Alert{}, "title"},
		{"tab in a title", withTitle("Incendio\tQuilpué"), &Alert{}, "title"},
		{"NUL in a title", withTitle("Incendio\x00"), &Alert{}, "title"},
		{"lines in a description", withDescription("Primera línea\nSegunda"), &Alert{}, ""},
		{"NUL in a description", withDescription("x\x00y"), &Alert{}, "description"},
		{"NUL in a shift lead", AssignShift{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana\x00"}, &Roster{}, "lead"},
		{"invalid UTF-8 in shift notes", AssignShift{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", Notes: "\xc3("}, &Roster{}, "notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.agg.Decide(tt.cmd)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if msg := fields(err)[tt.wantField]; msg == "" {
				t.Fatalf("got %v, want a message for %s", err, tt.wantField)
			}
		})
	}
}

func withTitle(title string) DeclareAlert {
	c := validDeclare()
	c.Title = title
	return c
}

func withDescription(d string) DeclareAlert {
	c := validDeclare()
	c.Description = d
	return c
}

func TestDatesAreBounded(t *testing.T) {
	tests := []struct {
		date string
		want bool
	}{
		{"2026-01-15", true},
		{MinDate, true},
		{MaxDate, true},
		{"2024-02-29", true},
		{"0000-01-01", false},
		{"1999-12-31", false},
		{"2100-01-01", false},
		{"9999-12-31", false},
		{"2026-02-30", false},
		{"2026-1-15", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidDate(tt.date); got != tt.want {
			t.Errorf("ValidDate(%q): got %v, want %v", tt.date, got, tt.want)
		}
	}
	for _, date := range []string{"0000-01-01", "9999-12-31"} {
		t.Run("novedad on "+date, func(t *testing.T) {
			_, err := (&Log{}).Decide(AddLogEntry{EntryID: "e", Date: date, Text: "x"})
			if msg := fields(err)["date"]; !strings.Contains(msg, "fuera de rango") {
				t.Fatalf("got %v, want date out of range", err)
			}
		})
		t.Run("shift on "+date, func(t *testing.T) {
			_, err := (&Roster{}).Decide(AssignShift{Date: date, Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana"})
			if msg := fields(err)["date"]; !strings.Contains(msg, "fuera de rango") {
				t.Fatalf("got %v, want date out of range", err)
			}
		})
	}
}
