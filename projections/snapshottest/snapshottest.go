// Package snapshottest is the contract suite every projections.SnapshotStore
// adapter runs (memory, postgres), so that they cannot drift apart.
//
// It imports projections, domain and eventstore only.
package snapshottest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Run runs the contract against the stores newStore returns: each subtest
// calls it once and expects a fresh, empty store that nothing else writes
// to; newStore arranges its closing with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) projections.SnapshotStore) {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return projections.Midnight(2026, 9, d, loc) }
	snap := func(d int, pos uint64, title string) projections.Snapshot {
		st := &projections.StreamState{Alert: &projections.AlertState{
			Alert:   domain.Alert{ID: "a1", Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Status: domain.StatusVigente, Title: title, DeclaredAt: day(1).UTC()},
			Version: pos, UpdatedBy: "ana",
		}}
		return projections.Snapshot{Version: projections.SnapshotVersion, Boundary: day(d), Position: eventstore.Seq(pos),
			Alerts: map[string]*projections.StreamState{"alert-a1": st}}
	}
	ctx := context.Background()
	put := func(t *testing.T, s projections.SnapshotStore, x projections.Snapshot) {
		t.Helper()
		if err := s.Put(ctx, x); err != nil {
			t.Fatalf("put %s: %v", x.Boundary, err)
		}
	}
	// want checks a lookup's answer: the boundary and position it found,
	// and the state it holds, as JSON.
	want := func(t *testing.T, what string, got projections.Snapshot, ok bool, err error, w projections.Snapshot, wantOK bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok != wantOK {
			t.Fatalf("%s: found %v, want %v", what, ok, wantOK)
		}
		if !ok {
			return
		}
		if !got.Boundary.Equal(w.Boundary) || got.Position != w.Position || got.Version != w.Version {
			t.Fatalf("%s: got boundary %s position %s version %d, want %s, %s, %d", what, got.Boundary, got.Position, got.Version, w.Boundary, w.Position, w.Version)
		}
		g, _ := json.Marshal(got.Alerts)
		x, _ := json.Marshal(w.Alerts)
		if string(g) != string(x) {
			t.Fatalf("%s: alerts\n got %s\nwant %s", what, g, x)
		}
	}

	t.Run("empty store has none", func(t *testing.T) {
		s := newStore(t)
		got, ok, err := s.Latest(ctx, projections.SnapshotVersion)
		want(t, "latest", got, ok, err, projections.Snapshot{}, false)
		got, ok, err = s.Before(ctx, projections.SnapshotVersion, day(30), eventstore.Position{})
		want(t, "before", got, ok, err, projections.Snapshot{}, false)
	})

	t.Run("before finds the latest boundary at or before a moment", func(t *testing.T) {
		s := newStore(t)
		// Put out of order: the store orders by boundary.
		put(t, s, snap(7, 30, "siete"))
		put(t, s, snap(5, 10, "cinco"))
		put(t, s, snap(6, 20, "seis")) // 6 September 2026 starts at 01:00: DST
		for _, c := range []struct {
			what string
			at   time.Time
			d    int
			pos  uint64
			ok   bool
		}{
			{"before the first", day(5).Add(-time.Nanosecond), 0, 0, false},
			{"at a boundary exactly", day(6), 6, 20, true},
			{"between two", day(6).Add(time.Hour), 6, 20, true},
			{"after the last", day(20), 7, 30, true},
		} {
			got, ok, err := s.Before(ctx, projections.SnapshotVersion, c.at, eventstore.Position{})
			var w projections.Snapshot
			if c.ok {
				w = snap(c.d, c.pos, map[int]string{5: "cinco", 6: "seis", 7: "siete"}[c.d])
			}
			want(t, c.what, got, ok, err, w, c.ok)
		}
		got, ok, err := s.Latest(ctx, projections.SnapshotVersion)
		want(t, "latest", got, ok, err, snap(7, 30, "siete"), true)
	})

	t.Run("before honours a position bound", func(t *testing.T) {
		s := newStore(t)
		put(t, s, snap(5, 10, "cinco"))
		put(t, s, snap(6, 20, "seis"))
		put(t, s, snap(7, 30, "siete"))
		got, ok, err := s.Before(ctx, projections.SnapshotVersion, day(20), eventstore.Seq(29))
		want(t, "upto 29", got, ok, err, snap(6, 20, "seis"), true)
		got, ok, err = s.Before(ctx, projections.SnapshotVersion, day(20), eventstore.Seq(20))
		want(t, "upto 20 (inclusive)", got, ok, err, snap(6, 20, "seis"), true)
		got, ok, err = s.Before(ctx, projections.SnapshotVersion, day(20), eventstore.Seq(9))
		want(t, "upto 9", got, ok, err, projections.Snapshot{}, false)
	})

	t.Run("put keeps the first of a boundary", func(t *testing.T) {
		s := newStore(t)
		put(t, s, snap(5, 10, "primera"))
		put(t, s, snap(5, 10, "segunda"))
		got, ok, err := s.Before(ctx, projections.SnapshotVersion, day(5), eventstore.Position{})
		want(t, "after two puts", got, ok, err, snap(5, 10, "primera"), true)
	})

	t.Run("versions are apart", func(t *testing.T) {
		s := newStore(t)
		old := snap(5, 10, "vieja")
		old.Version = projections.SnapshotVersion + 1000
		put(t, s, old)
		got, ok, err := s.Latest(ctx, projections.SnapshotVersion)
		want(t, "current version", got, ok, err, projections.Snapshot{}, false)
		got, ok, err = s.Latest(ctx, old.Version)
		want(t, "other version", got, ok, err, old, true)
	})

	t.Run("readers own what they read", func(t *testing.T) {
		s := newStore(t)
		x := snap(5, 10, "original")
		put(t, s, x)
		x.Alerts["alert-a1"].Alert.Alert.Title = "cambiada después de Put"
		got, ok, err := s.Latest(ctx, projections.SnapshotVersion)
		want(t, "after changing what was put", got, ok, err, snap(5, 10, "original"), true)
		got.Alerts["alert-a1"].Alert.Alert.Title = "cambiada por un lector"
		got, ok, err = s.Latest(ctx, projections.SnapshotVersion)
		want(t, "after changing what was read", got, ok, err, snap(5, 10, "original"), true)
	})

	t.Run("reset deletes every snapshot", func(t *testing.T) {
		s := newStore(t)
		put(t, s, snap(5, 10, "cinco"))
		if err := s.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Latest(ctx, projections.SnapshotVersion)
		want(t, "after reset", got, ok, err, projections.Snapshot{}, false)
		put(t, s, snap(6, 20, "seis"))
		got, ok, err = s.Latest(ctx, projections.SnapshotVersion)
		want(t, "put after reset", got, ok, err, snap(6, 20, "seis"), true)
	})
}
