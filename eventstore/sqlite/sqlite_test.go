package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/eventstore/storetest"
)

func open(tb testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func newStore(tb testing.TB) eventstore.Store {
	tb.Helper()
	return open(tb, filepath.Join(tb.TempDir(), "events.db"))
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, newStore)
}

func event(kind string) eventstore.EventData {
	return eventstore.EventData{
		ID:     eventstore.NewEventID(),
		Type:   "test." + kind,
		Schema: 1,
		Data:   json.RawMessage(`{"kind":"` + kind + `"}`),
		Actor:  eventstore.Actor{ID: "t", Username: "t", Role: "system"},
	}
}

func TestEventsSurviveReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "events.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	a, b := event("a"), event("b")
	first, err := s.Append(ctx, "alert-1", eventstore.NoStream, a, b)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = open(t, path)
	got, err := s.ReadStream(ctx, "alert-1", 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatalf("read after reopen: %v", err)
	}
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[1].Position != first.Position {
		t.Fatalf("after reopen read %+v, want a and b with b at %s", got, first.Position)
	}
	// The stream and the log carry on where they were.
	if _, err := s.Append(ctx, "alert-1", eventstore.NoStream, event("c")); !errors.Is(err, eventstore.ErrWrongVersion) {
		t.Errorf("no-stream append after reopen: %v, want ErrWrongVersion", err)
	}
	again, err := s.Append(ctx, "alert-1", eventstore.NoStream, a, b)
	if err != nil || again != first {
		t.Errorf("retry after reopen: %+v, %v; want the original %+v", again, err, first)
	}
	next, err := s.Append(ctx, "alert-1", eventstore.Exact(1), event("c"))
	if err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
	if next.Revision != 2 || next.Position.Compare(first.Position) <= 0 {
		t.Errorf("append after reopen: %+v, want revision 2 after position %s", next, first.Position)
	}
}

func TestClockStampsRecordedAt(t *testing.T) {
	santiago := time.FixedZone("CLT", -3*60*60)
	at := time.Date(2026, 2, 3, 14, 5, 6, 789012345, santiago)
	s := open(t, filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return at }))
	if _, err := s.Append(t.Context(), "log-2026-02-03", eventstore.Any, event("a")); err != nil {
		t.Fatalf("append: %v", err)
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("read all: %d events, %v", len(got), err)
	}
	if !got[0].RecordedAt.Equal(at) || got[0].RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at %v, want %v in UTC", got[0].RecordedAt, at.UTC())
	}
}

// RecordedAt is non-decreasing in position order, even across handles on
// one file (processes) whose clocks disagree.
func TestRecordedAtNeverGoesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	storetest.RecordedAtNeverGoesBack(t, func(t *testing.T, now func() time.Time) eventstore.Store {
		return open(t, path, sqlite.WithClock(now))
	})
}

func TestAppendRejectsMalformedInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "events.db"))
	dup := event("dup")
	noID := event("x")
	noID.ID = uuid.Nil
	noType := event("x")
	noType.Type = ""
	badJSON := event("x")
	badJSON.Data = json.RawMessage(`{"open":`)
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"empty stream name", "", []eventstore.EventData{event("x")}},
		{"system stream", "$settings", []eventstore.EventData{event("x")}},
		{"no events", "alert-1", nil},
		{"event without id", "alert-1", []eventstore.EventData{event("x"), noID}},
		{"event without type", "alert-1", []eventstore.EventData{noType}},
		{"data that is not JSON", "alert-1", []eventstore.EventData{badJSON}},
		{"the same id twice", "alert-1", []eventstore.EventData{dup, dup}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Append(t.Context(), c.stream, eventstore.Any, c.events...); err == nil {
				t.Fatal("append succeeded, want an error")
			}
		})
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 0 {
		t.Errorf("store holds %d events (%v), want none", len(got), err)
	}

	empty := event("empty")
	empty.Data = nil
	if _, err := s.Append(t.Context(), "alert-1", eventstore.Any, empty); err != nil {
		t.Fatalf("append with no data: %v", err)
	}
	got, err = s.ReadStream(t.Context(), "alert-1", 0, eventstore.Forwards, 0)
	if err != nil || len(got) != 1 || string(got[0].Data) != "null" {
		t.Errorf("read %+v, %v; want one event with data null", got, err)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql open: %v", err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatalf("set user_version: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("sql close: %v", err)
	}
	if s, err := sqlite.Open(path); err == nil {
		_ = s.Close()
		t.Fatal("opened a file with schema version 99, want an error")
	}
}

func TestOpenRefusesInMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := sqlite.Open(path); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestClosedStore(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	sub, err := s.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	for range sub.Events() {
		t.Error("event on an empty store")
	}
	if err := sub.Err(); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("subscription err after store close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Append(t.Context(), "alert-1", eventstore.Any, event("x")); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("append after close: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("read all after close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{}); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("subscribe after close: %v, want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("ping after close: %v, want ErrUnavailable", err)
	}
}

func TestForeignPositionIsRefused(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "events.db"))
	esdb := eventstore.Position{Commit: 10, Prepare: 7}
	if _, err := s.ReadAll(t.Context(), esdb, eventstore.Filter{}, 0); !errors.Is(err, eventstore.ErrBadPosition) {
		t.Errorf("read all from %s: %v, want ErrBadPosition", esdb, err)
	}
	if _, err := s.Subscribe(t.Context(), esdb, eventstore.Filter{}); !errors.Is(err, eventstore.ErrBadPosition) {
		t.Errorf("subscribe from %s: %v, want ErrBadPosition", esdb, err)
	}
}

// Two Stores on one file stand for two processes (the server and a CLI
// subcommand): SQLite's write lock keeps one winner per revision.
func TestTwoHandlesOnOneFileKeepOneWinnerPerRevision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	const perStore, rounds = 3, 10
	if _, err := stores[0].Append(t.Context(), "roster-1", eventstore.NoStream, event("first")); err != nil {
		t.Fatalf("append: %v", err)
	}
	for r := range uint64(rounds) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		start := make(chan struct{})
		for _, s := range stores {
			for range perStore {
				wg.Go(func() {
					<-start
					_, err := s.Append(t.Context(), "roster-1", eventstore.Exact(r), event("race"))
					switch {
					case err == nil:
						mu.Lock()
						wins++
						mu.Unlock()
					case !errors.Is(err, eventstore.ErrWrongVersion):
						t.Errorf("round %d: %v", r, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Fatalf("round %d: %d winners, want 1", r, wins)
		}
	}
	got, err := stores[1].ReadStream(t.Context(), "roster-1", 0, eventstore.Forwards, 0)
	if err != nil || len(got) != rounds+1 {
		t.Fatalf("stream has %d events (%v), want %d", len(got), err, rounds+1)
	}
	for i, e := range got {
		if e.Version != uint64(i) {
			t.Fatalf("event %d has revision %d", i, e.Version)
		}
	}
}

// An append by another handle on the file (another process) reaches a
// subscription with this handle's next append, or with WithPollInterval on
// its own.
func TestSubscriptionSeesAnotherHandlesAppends(t *testing.T) {
	receive := func(t *testing.T, sub eventstore.Subscription) eventstore.Event {
		t.Helper()
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			return e
		case <-time.After(30 * time.Second):
			t.Fatal("no event within 30s")
		}
		return eventstore.Event{}
	}
	t.Run("with the next local append", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		local, other := open(t, path), open(t, path)
		sub, err := local.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		foreign, mine := event("foreign"), event("mine")
		if _, err := other.Append(t.Context(), "log-1", eventstore.Any, foreign); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := local.Append(t.Context(), "log-1", eventstore.Any, mine); err != nil {
			t.Fatalf("append: %v", err)
		}
		for _, want := range []uuid.UUID{foreign.ID, mine.ID} {
			if got := receive(t, sub); got.ID != want {
				t.Fatalf("received %s, want %s", got.ID, want)
			}
		}
	})
	t.Run("with a poll interval", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.db")
		local, other := open(t, path, sqlite.WithPollInterval(10*time.Millisecond)), open(t, path)
		sub, err := local.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		foreign := event("foreign")
		if _, err := other.Append(t.Context(), "log-1", eventstore.Any, foreign); err != nil {
			t.Fatalf("append: %v", err)
		}
		if got := receive(t, sub); got.ID != foreign.ID {
			t.Fatalf("received %s, want %s", got.ID, foreign.ID)
		}
	})
}

// A subscription whose filter skips most of the log still delivers the few
// events that match, in order, across many wake-ups.
func TestSparseFilteredSubscription(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "events.db"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub, err := s.Subscribe(ctx, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"informe-"}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	var want []uuid.UUID
	for i := range 40 {
		stream := fmt.Sprintf("log-%d", i%3)
		e := event("noise")
		if i%10 == 9 {
			stream = "informe-2026-01-01"
			want = append(want, e.ID)
		}
		if _, err := s.Append(ctx, stream, eventstore.Any, e); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	for i, id := range want {
		select {
		case e, ok := <-sub.Events():
			if !ok || e.ID != id || e.Version != uint64(i) {
				t.Fatalf("event %d: got %s@%d (open %v), want %s@%d", i, e.ID, e.Version, ok, id, i)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("event %d not received", i)
		}
	}
}
