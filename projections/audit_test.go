package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testgen"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// auditLog builds a script of recorded events by the given actors.
type auditLog = testgen.EventLog

func TestAuditIndex(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	l := &auditLog{T: t, At: at}
	a := domain.AlertStream("a1")
	l.Add(a, "ana", &domain.AlertDeclared{AlertID: "a1", Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Provincias: []string{"056"}, Title: "Marejadas anormales en todo el borde costero de la región", At: at})
	l.Add(a, "beto", &domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: at})
	l.Add(domain.RosterStream("2026-01-15"), "carla", &domain.ShiftAssigned{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", At: at})
	l.Add(domain.RosterStream("2026-01-15"), "beto", &domain.ShiftUnassigned{Date: "2026-01-15", Slot: "dia", At: at})
	l.Add(a, "carla", &domain.AlertCancelled{Reason: "mar en calma", At: at})

	m := memory.New()
	if _, err := m.Apply(ctx, l.Events); err != nil {
		t.Fatal(err)
	}
	// Re-delivery is idempotent: no second record.
	if _, err := m.Apply(ctx, l.Events[3:]); err != nil {
		t.Fatal(err)
	}
	all, err := m.Audit(ctx, projections.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(l.Events) {
		t.Fatalf("got %d records, want %d", len(all), len(l.Events))
	}
	level := all[1]
	if level.Actor.Username != "beto" || level.Version != 1 || level.Type != "alert.level_changed" || !level.RecordedAt.Equal(at.Add(2*time.Minute)) {
		t.Fatalf("got %+v", level)
	}
	if len(level.Diff) != 1 || level.Diff["level"] != (projections.FieldChange{Before: "amarilla", After: "roja"}) {
		t.Fatalf("got diff %v, want only level amarilla → roja", level.Diff)
	}
	if want := "beto cambió el nivel de la alerta «Marejadas anormales en todo el borde co…» de amarilla a roja"; level.Summary != want {
		t.Fatalf("got summary %q, want %q", level.Summary, want)
	}
	if d := all[0].Diff; d["title"].Before != nil || d["title"].After == nil || d["version"] != (projections.FieldChange{}) {
		t.Fatalf("declared: got diff %v, want every field from null and no version", d)
	}
	if d := all[3].Diff; d["lead"] != (projections.FieldChange{Before: "Ana", After: nil}) || all[3].Summary != "beto dejó vacante el turno dia del 2026-01-15" {
		t.Fatalf("unassigned: got %v %q", d, all[3].Summary)
	}
	if d := all[4].Diff; d["status"] != (projections.FieldChange{Before: "vigente", After: "cancelada"}) || d["cancel_reason"].After != "mar en calma" {
		t.Fatalf("cancelled: got %v", d)
	}

	positions := func(rs []projections.AuditRecord) []uint64 {
		out := []uint64{}
		for _, r := range rs {
			out = append(out, r.Position.Commit)
		}
		return out
	}
	tests := []struct {
		name string
		q    projections.AuditQuery
		want []uint64
	}{
		{"by actor", projections.AuditQuery{Actor: "beto"}, []uint64{2, 4}},
		{"newest first", projections.AuditQuery{Actor: "beto", Newest: true}, []uint64{4, 2}},
		{"one stream", projections.AuditQuery{Stream: a}, []uint64{1, 2, 5}},
		{"an aggregate kind", projections.AuditQuery{Stream: domain.RosterPrefix}, []uint64{3, 4}},
		{"a type", projections.AuditQuery{Type: "shift.assigned"}, []uint64{3}},
		{"a time range, from inclusive, to exclusive", projections.AuditQuery{From: at.Add(2 * time.Minute), To: at.Add(4 * time.Minute)}, []uint64{2, 3}},
		{"after a cursor", projections.AuditQuery{After: eventstore.Seq(3)}, []uint64{4, 5}},
		{"before a cursor, newest first", projections.AuditQuery{Before: eventstore.Seq(3), Newest: true}, []uint64{2, 1}},
		{"a limit", projections.AuditQuery{Newest: true, Limit: 2}, []uint64{5, 4}},
		{"nothing", projections.AuditQuery{Actor: "nadie"}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Audit(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if g := positions(got); len(g) != len(tt.want) || (len(g) > 0 && !equal(g, tt.want)) {
				t.Fatalf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAuditQueryHide(t *testing.T) {
	q := projections.AuditQuery{Hide: "user-"}
	for stream, want := range map[string]bool{"user-0193": false, "alert-1": true, "log-2026-01-15": true} {
		if got := q.Matches(&projections.AuditRecord{Stream: stream}); got != want {
			t.Errorf("%s: got %v, want %v", stream, got, want)
		}
	}
}
