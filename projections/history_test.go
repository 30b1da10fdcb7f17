package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

func santiago(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDayBoundsFollowTheCalendarAcrossDST(t *testing.T) {
	loc := santiago(t)
	for _, c := range []struct {
		date       string
		start, end string
		hours      int
	}{
		{"2026-04-03", "2026-04-03T03:00:00Z", "2026-04-04T03:00:00Z", 24},
		// DST ends at 24:00 on Saturday: the clock goes back to 23:00.
		{"2026-04-04", "2026-04-04T03:00:00Z", "2026-04-05T04:00:00Z", 25},
		{"2026-04-05", "2026-04-05T04:00:00Z", "2026-04-06T04:00:00Z", 24},
		// DST starts at 24:00 on Saturday: the clock jumps to 01:00, so
		// Saturday ends, and Sunday starts, at 04:00 UTC (not at 03:00,
		// where time.Date puts a midnight that does not exist).
		{"2026-09-05", "2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", 24},
		{"2026-09-06", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", 23},
		{"2026-12-31", "2026-12-31T03:00:00Z", "2027-01-01T03:00:00Z", 24},
	} {
		start, end, err := projections.DayBounds(c.date, loc)
		if err != nil {
			t.Fatal(err)
		}
		if !start.Equal(utc(c.start)) || !end.Equal(utc(c.end)) {
			t.Errorf("%s: got [%s, %s), want [%s, %s)", c.date, start.UTC(), end.UTC(), c.start, c.end)
		}
		if got := end.Sub(start); got != time.Duration(c.hours)*time.Hour {
			t.Errorf("%s lasts %s, want %dh", c.date, got, c.hours)
		}
		if got := start.In(loc).Format(time.DateOnly); got != c.date {
			t.Errorf("%s starts on %s", c.date, got)
		}
	}
	for _, bad := range []string{"2026-02-30", "2026-4-1", "", "hoy"} {
		if _, _, err := projections.DayBounds(bad, loc); !errors.Is(err, projections.ErrBadDate) {
			t.Errorf("DayBounds(%q): got %v, want ErrBadDate", bad, err)
		}
	}
}

func TestBoundaryBeforeIsTheLastMidnightStrictlyBefore(t *testing.T) {
	h := projections.NewHistory(nil, nil, santiago(t), zerolog.Nop())
	for _, c := range []struct{ at, want string }{
		{"2026-09-06T04:00:00Z", "2026-09-05T04:00:00Z"}, // exactly a midnight: the one before
		{"2026-09-06T04:00:00.000000001Z", "2026-09-06T04:00:00Z"},
		{"2026-09-06T03:30:00Z", "2026-09-05T04:00:00Z"}, // 23:30 on Saturday, before the jump
		{"2026-04-05T03:30:00Z", "2026-04-04T03:00:00Z"}, // the repeated 23:30
		{"2026-04-05T12:00:00Z", "2026-04-05T04:00:00Z"},
	} {
		if got := h.BoundaryBefore(utc(c.at)); !got.Equal(utc(c.want)) {
			t.Errorf("BoundaryBefore(%s) = %s, want %s", c.at, got.UTC(), c.want)
		}
	}
}

// histStore is an embedded store whose clock the test sets.
type histStore struct {
	eventstore.Store
	now  time.Time
	cmds *command.Handler
}

func newHistStore(t *testing.T) *histStore {
	t.Helper()
	h := &histStore{}
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return h.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h.Store, h.cmds = s, command.New(s, command.WithClock(func() time.Time { return h.now }))
	return h
}

func (h *histStore) exec(t *testing.T, at time.Time, stream string, c domain.Command) {
	t.Helper()
	h.now = at
	if _, err := h.cmds.Execute(context.Background(), stream, command.Meta{Actor: eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}}, nil, command.Command(c)); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A snapshot leaves cancelled alerts out. Should an event of one appear
// after it anyway (the domain refuses it, but the log is what it is), the
// fold must go on from the alert's own history, as a full replay does.
func TestHistoryFoldsAnAlertMissingFromTheSnapshot(t *testing.T) {
	ctx := context.Background()
	loc := santiago(t)
	s := newHistStore(t)
	day1 := time.Date(2026, 9, 5, 10, 0, 0, 0, loc)
	s.exec(t, day1, domain.AlertStream("a"), domain.DeclareAlert{ID: "a", Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla,
		Scope: domain.Scope{Region: true}, Title: "Marejadas anormales", At: day1})
	s.exec(t, day1.Add(time.Hour), domain.AlertStream("a"), domain.CancelAlert{Reason: "fin", At: day1.Add(time.Hour)})
	day2 := time.Date(2026, 9, 6, 10, 0, 0, 0, loc)
	s.exec(t, day2, domain.AlertStream("b"), domain.DeclareAlert{ID: "b", Hazard: domain.HazardViento, Level: domain.LevelRoja,
		Scope: domain.Scope{Region: true}, Title: "Viento blanco", At: day2})
	s.now = day2.Add(time.Hour)
	typ, schema, data, err := domain.Encode(&domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: s.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, domain.AlertStream("a"), eventstore.Exact(1), eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: data,
		Actor: eventstore.Actor{ID: "legacy", Username: "legacy", Role: "system"}}); err != nil {
		t.Fatal(err)
	}

	snaps := memory.NewSnapshots()
	h := projections.NewHistory(s, snaps, loc, zerolog.Nop())
	if _, n, err := h.CatchUp(ctx); err != nil || n != 1 {
		t.Fatalf("catch up: %d snapshots, %v; want 1", n, err)
	}
	snap, ok, err := snaps.Latest(ctx, projections.SnapshotVersion)
	if err != nil || !ok {
		t.Fatalf("latest snapshot: %v %v", ok, err)
	}
	if _, has := snap.Alerts["alert-a"]; has || len(snap.Alerts) != 0 {
		t.Fatalf("the snapshot at %s holds %v; want no alert (a was cancelled)", snap.Boundary, snap.Alerts)
	}

	bare := projections.NewHistory(s, nil, loc, zerolog.Nop())
	for _, date := range []string{"2026-09-05", "2026-09-06"} {
		_, end, _ := projections.DayBounds(date, loc)
		got, err := h.Informe(ctx, date, end, eventstore.Position{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := bare.Informe(ctx, date, end, eventstore.Position{})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
			t.Errorf("informe %s with snapshots\n got %s\nwant %s", date, g, w)
		}
		gc, err := h.Changes(ctx, date)
		if err != nil {
			t.Fatal(err)
		}
		wc, err := bare.Changes(ctx, date)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, gc), mustJSON(t, wc); g != w {
			t.Errorf("changes of %s with snapshots\n got %s\nwant %s", date, g, w)
		}
	}
	ch, err := h.Changes(ctx, "2026-09-06")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changes) != 2 || ch.Changes[1].Summary != "legacy cambió el nivel de la alerta «Marejadas anormales» de amarilla a roja" {
		t.Fatalf("changes of 2026-09-06: %s", mustJSON(t, ch))
	}
}

// The informe of a day is the fold as of its end: an event recorded at its
// last instant is in it, one at the next day's first instant... is too (the
// end is inclusive), and one a nanosecond later is not. A late novedad for
// the day, written the next morning, is in that morning's informe of the
// day (at=) but not in the day's own.
func TestInformeCutsAtTheEndOfTheDay(t *testing.T) {
	ctx := context.Background()
	loc := santiago(t)
	s := newHistStore(t)
	_, end, _ := projections.DayBounds("2026-04-04", loc) // 25 hours long
	add := func(at time.Time, id, date string) {
		s.exec(t, at, domain.LogStream(date), domain.AddLogEntry{EntryID: id, Date: date, Text: "Novedad " + id, By: "ana", At: at})
	}
	add(end.Add(-90*time.Minute), "repeated-hour", "2026-04-04") // 23:30, the second time
	add(end, "at-the-end", "2026-04-04")
	add(end.Add(time.Nanosecond), "late", "2026-04-04")
	add(end.Add(8*time.Hour), "morning", "2026-04-04")
	add(end.Add(9*time.Hour), "next-day", "2026-04-05")

	snaps := memory.NewSnapshots()
	h := projections.NewHistory(s, snaps, loc, zerolog.Nop())
	if _, _, err := h.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	ids := func(v projections.InformeView) []string {
		out := []string{}
		for _, e := range v.Log {
			out = append(out, e.ID)
		}
		return out
	}
	v, err := h.Informe(ctx, "2026-04-04", end, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, ids(v)), `["repeated-hour","at-the-end"]`; got != want {
		t.Errorf("end of day: entries %s, want %s", got, want)
	}
	v, err = h.Informe(ctx, "2026-04-04", end.Add(10*time.Hour), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, ids(v)), `["repeated-hour","at-the-end","late","morning"]`; got != want {
		t.Errorf("next morning: entries %s, want %s", got, want)
	}
	if v.Position != eventstore.Seq(5) {
		t.Errorf("position %s, want 5 (the last event recorded by then, of any stream)", v.Position)
	}
	ch, err := h.Changes(ctx, "2026-04-05")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, ch.Changes); len(ch.Changes) != 1 || ch.Changes[0].Position != eventstore.Seq(5) {
		t.Errorf("changes of 2026-04-05: %s; want only the next day's own novedad", got)
	}
}
