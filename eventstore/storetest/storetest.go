package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// deadline bounds every wait on a subscription, so that a store that loses
// an event fails the test instead of hanging it. It is generous on purpose:
// it is never reached by a correct store, even under the race detector.
const deadline = 30 * time.Second

// Run runs the contract suite against the stores newStore returns. Each
// subtest calls newStore once and expects a fresh, empty store that nothing
// else writes to; newStore arranges the store's Close with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("append", func(t *testing.T) { testAppend(t, newStore) })
	t.Run("idempotency", func(t *testing.T) { testIdempotency(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("read stream", func(t *testing.T) { testReadStream(t, newStore) })
	t.Run("read all", func(t *testing.T) { testReadAll(t, newStore) })
	t.Run("envelope", func(t *testing.T) { testEnvelope(t, newStore) })
	t.Run("subscribe", func(t *testing.T) { testSubscribe(t, newStore) })
	t.Run("ping answers", func(t *testing.T) {
		s := newStore(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
}

func testAppend(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("any appends to a new and to an existing stream", func(t *testing.T) {
		s := newStore(t)
		r := mustAppend(t, s, "alert-1", eventstore.Any, newEvent("a"))
		if r.Revision != 0 {
			t.Errorf("first append: revision %d, want 0", r.Revision)
		}
		r = mustAppend(t, s, "alert-1", eventstore.Any, newEvent("b"), newEvent("c"))
		if r.Revision != 2 {
			t.Errorf("second append: revision %d, want 2", r.Revision)
		}
		wantVersions(t, readStream(t, s, "alert-1", 0, eventstore.Forwards, 0), 0, 1, 2)
	})

	t.Run("no stream succeeds on a new stream", func(t *testing.T) {
		s := newStore(t)
		r := mustAppend(t, s, "alert-1", eventstore.NoStream, newEvent("a"), newEvent("b"))
		if r.Revision != 1 {
			t.Errorf("revision %d, want 1", r.Revision)
		}
	})

	t.Run("no stream fails on an existing stream", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "alert-1", eventstore.NoStream, newEvent("a"), newEvent("b"))
		refused(t, s, "alert-1", eventstore.NoStream, true, 1)
	})

	t.Run("stream exists fails on a new stream", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "other", eventstore.Any, newEvent("a"))
		refused(t, s, "alert-1", eventstore.StreamExists, false, 0)
	})

	t.Run("stream exists succeeds on an existing stream", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "alert-1", eventstore.NoStream, newEvent("a"))
		r := mustAppend(t, s, "alert-1", eventstore.StreamExists, newEvent("b"))
		if r.Revision != 1 {
			t.Errorf("revision %d, want 1", r.Revision)
		}
	})

	t.Run("exact succeeds at the current revision", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "alert-1", eventstore.NoStream, newEvent("a"), newEvent("b"))
		r := mustAppend(t, s, "alert-1", eventstore.Exact(1), newEvent("c"))
		if r.Revision != 2 {
			t.Errorf("revision %d, want 2", r.Revision)
		}
		r = mustAppend(t, s, "alert-1", eventstore.Exact(2), newEvent("d"), newEvent("e"))
		if r.Revision != 4 {
			t.Errorf("revision %d, want 4", r.Revision)
		}
		wantVersions(t, readStream(t, s, "alert-1", 0, eventstore.Forwards, 0), 0, 1, 2, 3, 4)
	})

	t.Run("exact fails on a missing stream", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "other", eventstore.Any, newEvent("a"))
		refused(t, s, "alert-1", eventstore.Exact(0), false, 0)
	})

	t.Run("exact fails behind and ahead of the current revision", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "alert-1", eventstore.NoStream, newEvent("a"), newEvent("b"), newEvent("c"))
		refused(t, s, "alert-1", eventstore.Exact(1), true, 2)
		refused(t, s, "alert-1", eventstore.Exact(0), true, 2)
		refused(t, s, "alert-1", eventstore.Exact(3), true, 2)
		refused(t, s, "alert-1", eventstore.Exact(^uint64(0)>>1), true, 2)
	})

	t.Run("result names the last event's revision and position", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "other", eventstore.Any, newEvent("x"))
		r := mustAppend(t, s, "alert-1", eventstore.Any, newEvent("a"), newEvent("b"), newEvent("c"))
		got := readStream(t, s, "alert-1", 0, eventstore.Forwards, 0)
		last := got[len(got)-1]
		if r.Revision != last.Version || r.Position != last.Position {
			t.Errorf("result %d@%s, want %d@%s (the last event)", r.Revision, r.Position, last.Version, last.Position)
		}
	})

	t.Run("a multi-event append is contiguous in its stream and in $all", func(t *testing.T) {
		s := newStore(t)
		const writers, appends, size = 4, 8, 5
		batches := make([][][]uuid.UUID, writers)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				stream := fmt.Sprintf("log-%d", w)
				for range appends {
					evs := newEvents("batch", size)
					if _, err := s.Append(t.Context(), stream, eventstore.Any, evs...); err != nil {
						errs <- fmt.Errorf("append %s: %w", stream, err)
						return
					}
					batches[w] = append(batches[w], dataIDs(evs))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		if len(all) != writers*appends*size {
			t.Fatalf("$all has %d events, want %d", len(all), writers*appends*size)
		}
		index := make(map[uuid.UUID]int, len(all))
		for i, e := range all {
			index[e.ID] = i
		}
		for w, bs := range batches {
			for _, batch := range bs {
				first := index[batch[0]]
				for k, id := range batch {
					if i, ok := index[id]; !ok || i != first+k {
						t.Fatalf("writer %d: event %d of a batch is at $all index %d, want %d", w, k, i, first+k)
					}
					if all[first+k].Stream != fmt.Sprintf("log-%d", w) {
						t.Fatalf("writer %d: batch interleaved with %s", w, all[first+k].Stream)
					}
				}
			}
			wantVersions(t, readStream(t, s, fmt.Sprintf("log-%d", w), 0, eventstore.Forwards, 0), seq(0, appends*size)...)
		}
	})
}

func testIdempotency(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("re-appending the same events returns the original result", func(t *testing.T) {
		s := newStore(t)
		evs := newEvents("declared", 2)
		first := mustAppend(t, s, "alert-1", eventstore.NoStream, evs...)
		for _, exp := range []eventstore.Expected{eventstore.NoStream, eventstore.Any} {
			again, err := s.Append(t.Context(), "alert-1", exp, evs...)
			if err != nil {
				t.Fatalf("retry with %s: %v", exp, err)
			}
			if again != first {
				t.Errorf("retry with %s: got %+v, want the original %+v", exp, again, first)
			}
		}
		wantIDs(t, "stream", readStream(t, s, "alert-1", 0, eventstore.Forwards, 0), dataIDs(evs))
		wantIDs(t, "$all", readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0), dataIDs(evs))
	})

	t.Run("a retry after later appends still returns the original result", func(t *testing.T) {
		s := newStore(t)
		a, b := newEvents("declared", 2), newEvents("updated", 1)
		ra := mustAppend(t, s, "alert-1", eventstore.NoStream, a...)
		rb := mustAppend(t, s, "alert-1", eventstore.Exact(1), b...)
		mustAppend(t, s, "alert-1", eventstore.Exact(2), newEvent("c"))
		if got, err := s.Append(t.Context(), "alert-1", eventstore.NoStream, a...); err != nil || got != ra {
			t.Errorf("retry of the first append: %+v, %v; want %+v", got, err, ra)
		}
		if got, err := s.Append(t.Context(), "alert-1", eventstore.Exact(1), b...); err != nil || got != rb {
			t.Errorf("retry of the second append: %+v, %v; want %+v", got, err, rb)
		}
		if n := len(readStream(t, s, "alert-1", 0, eventstore.Forwards, 0)); n != 4 {
			t.Errorf("stream has %d events, want 4", n)
		}
		if n := len(readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)); n != 4 {
			t.Errorf("$all has %d events, want 4", n)
		}
	})

	t.Run("a partial overlap is a duplicate and writes nothing", func(t *testing.T) {
		s := newStore(t)
		a, b, c := newEvent("a"), newEvent("b"), newEvent("c")
		mustAppend(t, s, "alert-1", eventstore.Any, a, b)
		before := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		_, err := s.Append(t.Context(), "alert-1", eventstore.Any, b, c)
		if !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Fatalf("got %v, want ErrDuplicateEvent", err)
		}
		wantUnchanged(t, s, before)
	})

	t.Run("the same events in another order are a duplicate", func(t *testing.T) {
		s := newStore(t)
		a, b := newEvent("a"), newEvent("b")
		mustAppend(t, s, "alert-1", eventstore.Any, a, b)
		before := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		_, err := s.Append(t.Context(), "alert-1", eventstore.Any, b, a)
		if !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Fatalf("got %v, want ErrDuplicateEvent", err)
		}
		wantUnchanged(t, s, before)
	})

	t.Run("the same events in another stream are a duplicate", func(t *testing.T) {
		s := newStore(t)
		a := newEvent("a")
		mustAppend(t, s, "alert-1", eventstore.Any, a)
		before := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		_, err := s.Append(t.Context(), "alert-2", eventstore.NoStream, a)
		if !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Fatalf("got %v, want ErrDuplicateEvent", err)
		}
		wantUnchanged(t, s, before)
		if got := readStream(t, s, "alert-2", 0, eventstore.Forwards, 0); len(got) != 0 {
			t.Errorf("alert-2 has %d events, want none", len(got))
		}
	})
}

func testConcurrency(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("concurrent exact appends have one winner per revision", func(t *testing.T) {
		s := newStore(t)
		const writers, rounds = 16, 30
		race := func(exp eventstore.Expected) (wins int, losses []error) {
			start := make(chan struct{})
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					<-start
					_, errs[w] = s.Append(t.Context(), "roster-1", exp, newEvent(fmt.Sprintf("writer-%d", w)))
				})
			}
			close(start)
			wg.Wait()
			for _, err := range errs {
				if err == nil {
					wins++
				} else {
					losses = append(losses, err)
				}
			}
			return wins, losses
		}
		wins, losses := race(eventstore.NoStream)
		if wins != 1 {
			t.Fatalf("creating the stream: %d winners, want 1", wins)
		}
		for _, err := range losses {
			wantVersionError(t, err, "roster-1", eventstore.NoStream, true, 0)
		}
		for r := range uint64(rounds) {
			wins, losses := race(eventstore.Exact(r))
			if wins != 1 {
				t.Fatalf("round %d: %d winners, want 1", r, wins)
			}
			for _, err := range losses {
				wantVersionError(t, err, "roster-1", eventstore.Exact(r), true, r+1)
			}
		}
		got := readStream(t, s, "roster-1", 0, eventstore.Forwards, 0)
		wantVersions(t, got, seq(0, rounds+1)...)
		wantIncreasing(t, got)
		if n := len(readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)); n != rounds+1 {
			t.Errorf("$all has %d events, want %d", n, rounds+1)
		}
	})
}

func testReadStream(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	s := newStore(t)
	var want []uuid.UUID
	for i := range 5 {
		evs := newEvents("entry", 2)
		mustAppend(t, s, "log-1", eventstore.Any, evs...)
		mustAppend(t, s, fmt.Sprintf("log-other-%d", i), eventstore.Any, newEvent("noise"))
		want = append(want, dataIDs(evs)...)
	}
	cases := []struct {
		name  string
		from  uint64
		dir   eventstore.Direction
		limit int
		want  []uint64
	}{
		{"forwards from the start", 0, eventstore.Forwards, 0, seq(0, 10)},
		{"forwards from a revision with a limit", 3, eventstore.Forwards, 4, []uint64{3, 4, 5, 6}},
		{"forwards with a limit past the end", 8, eventstore.Forwards, 5, []uint64{8, 9}},
		{"forwards from the end is empty", 10, eventstore.Forwards, 0, nil},
		{"backwards from last reads newest first", eventstore.Last, eventstore.Backwards, 0, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backwards from last with a limit", eventstore.Last, eventstore.Backwards, 3, []uint64{9, 8, 7}},
		{"backwards from a revision with a limit", 4, eventstore.Backwards, 2, []uint64{4, 3}},
		{"backwards from the first revision", 0, eventstore.Backwards, 0, []uint64{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := readStream(t, s, "log-1", c.from, c.dir, c.limit)
			wantVersions(t, got, c.want...)
			for _, e := range got {
				if e.Stream != "log-1" {
					t.Errorf("event %s has stream %q, want log-1", e.ID, e.Stream)
				}
				if e.ID != want[e.Version] {
					t.Errorf("revision %d is event %s, want %s", e.Version, e.ID, want[e.Version])
				}
			}
		})
	}
	t.Run("a missing stream reads as empty", func(t *testing.T) {
		for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
			got, err := s.ReadStream(t.Context(), "log-missing", 0, dir, 0)
			if err != nil || len(got) != 0 {
				t.Errorf("direction %d: got %d events, %v; want none and no error", dir, len(got), err)
			}
		}
		got, err := s.ReadStream(t.Context(), "log-missing", eventstore.Last, eventstore.Backwards, 10)
		if err != nil || len(got) != 0 {
			t.Errorf("backwards from last: got %d events, %v; want none and no error", len(got), err)
		}
	})
}

func testReadAll(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	s := newStore(t)
	streams := []string{"alert-1", "log-2026-01-02", "roster-2026-01-02", "alert-2"}
	var want []uuid.UUID
	byStream := map[string][]uuid.UUID{}
	for i := range 12 {
		stream := streams[i%len(streams)]
		evs := newEvents("e", 1+i%3)
		mustAppend(t, s, stream, eventstore.Any, evs...)
		want = append(want, dataIDs(evs)...)
		byStream[stream] = append(byStream[stream], dataIDs(evs)...)
	}
	all := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)

	t.Run("reads every event in strictly increasing position order", func(t *testing.T) {
		wantIDs(t, "$all", all, want)
		wantIncreasing(t, all)
	})

	t.Run("reads after a position with a limit", func(t *testing.T) {
		got := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 5)
		wantIDs(t, "first page", got, want[:5])
		got = readAll(t, s, all[6].Position, eventstore.Filter{}, 4)
		wantIDs(t, "page after the 7th", got, want[7:11])
		got = readAll(t, s, all[len(all)-1].Position, eventstore.Filter{}, 0)
		wantIDs(t, "after the last", got, nil)
	})

	t.Run("pages through the whole log", func(t *testing.T) {
		var got []eventstore.Event
		from := eventstore.Position{}
		for range len(want) + 1 {
			page := readAll(t, s, from, eventstore.Filter{}, 3)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			from = page[len(page)-1].Position
		}
		wantIDs(t, "paged $all", got, want)
	})

	t.Run("filters by stream prefix", func(t *testing.T) {
		got := readAll(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"alert-"}}, 0)
		var wantAlerts []uuid.UUID
		for _, id := range want {
			if slices.Contains(byStream["alert-1"], id) || slices.Contains(byStream["alert-2"], id) {
				wantAlerts = append(wantAlerts, id)
			}
		}
		wantIDs(t, "alert- events", got, wantAlerts)
		wantIncreasing(t, got)

		got = readAll(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"roster-", "log-"}}, 0)
		var wantDays []uuid.UUID
		for _, id := range want {
			if slices.Contains(byStream["roster-2026-01-02"], id) || slices.Contains(byStream["log-2026-01-02"], id) {
				wantDays = append(wantDays, id)
			}
		}
		wantIDs(t, "roster- and log- events", got, wantDays)

		got = readAll(t, s, got[1].Position, eventstore.Filter{StreamPrefixes: []string{"roster-", "log-"}}, 2)
		wantIDs(t, "a filtered page", got, wantDays[2:4])

		got = readAll(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"informe-"}}, 0)
		wantIDs(t, "informe- events", got, nil)
	})

	t.Run("positions round trip through their resume token", func(t *testing.T) {
		for i, e := range all {
			if e.Position.IsZero() {
				t.Fatalf("event %d has the zero position", i)
			}
			p, err := eventstore.ParsePosition(e.Position.String())
			if err != nil || p != e.Position {
				t.Fatalf("ParsePosition(%q) = %v, %v; want %v", e.Position.String(), p, err, e.Position)
			}
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("marshal event: %v", err)
			}
			var back eventstore.Event
			if err := json.Unmarshal(b, &back); err != nil || back.Position != e.Position {
				t.Fatalf("json round trip of position %s: got %s, %v", e.Position, back.Position, err)
			}
			// The token resumes exactly after the event.
			next := readAll(t, s, p, eventstore.Filter{}, 1)
			if i+1 < len(all) {
				wantIDs(t, "resume after "+p.String(), next, []uuid.UUID{all[i+1].ID})
			} else {
				wantIDs(t, "resume after the last", next, nil)
			}
		}
	})
}

func testEnvelope(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("every field round trips", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "user-1", eventstore.Any, newEvent("noise"))
		in := eventstore.EventData{
			ID:     eventstore.NewEventID(),
			Type:   "alert.declared",
			Schema: 3,
			Data: json.RawMessage(`{"title":"Incendio forestal en Quilpué","level":"roja",` +
				`"comunas":["05801","05804"],"n":1.5,"nested":{"ok":true,"none":null},"nul":"a\u0000b","emoji":"☀"}`),
			Actor:         eventstore.Actor{ID: "0197a5e0-0000-7000-8000-000000000001", Username: "mcarrasco", Role: "operator"},
			CorrelationID: "req-4f2a",
			CausationID:   "cmd-77",
		}
		res := mustAppend(t, s, "alert-0197a5e0", eventstore.NoStream, in)
		fromStream := readStream(t, s, "alert-0197a5e0", 0, eventstore.Forwards, 0)
		fromAll := readAll(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"alert-"}}, 0)
		if len(fromStream) != 1 || len(fromAll) != 1 {
			t.Fatalf("read %d from the stream and %d from $all, want 1 and 1", len(fromStream), len(fromAll))
		}
		got := fromStream[0]
		if got.ID != in.ID || got.Type != in.Type || got.Schema != in.Schema || got.Actor != in.Actor ||
			got.CorrelationID != in.CorrelationID || got.CausationID != in.CausationID {
			t.Errorf("envelope\n got %+v\nwant %+v", got, in)
		}
		if got.Stream != "alert-0197a5e0" || got.Version != 0 {
			t.Errorf("stream, version = %q, %d; want alert-0197a5e0, 0", got.Stream, got.Version)
		}
		if got.Position.IsZero() || got.Position != res.Position {
			t.Errorf("position %s, want the append's %s (non-zero)", got.Position, res.Position)
		}
		if !jsonEqual(got.Data, in.Data) {
			t.Errorf("data\n got %s\nwant %s", got.Data, in.Data)
		}
		if got.RecordedAt.IsZero() || got.RecordedAt.Location() != time.UTC {
			t.Errorf("recorded at %v (location %v), want a set UTC time", got.RecordedAt, got.RecordedAt.Location())
		}
		other := fromAll[0]
		if other.ID != got.ID || other.Position != got.Position || !other.RecordedAt.Equal(got.RecordedAt) ||
			other.Version != got.Version || other.Actor != got.Actor || !jsonEqual(other.Data, got.Data) {
			t.Errorf("ReadAll and ReadStream disagree:\n%+v\n%+v", other, got)
		}
	})

	t.Run("empty correlation and causation stay empty", func(t *testing.T) {
		s := newStore(t)
		in := newEvent("x")
		in.CorrelationID, in.CausationID = "", ""
		mustAppend(t, s, "alert-1", eventstore.Any, in)
		got := readStream(t, s, "alert-1", 0, eventstore.Forwards, 0)
		if len(got) != 1 || got[0].CorrelationID != "" || got[0].CausationID != "" {
			t.Errorf("got %+v, want one event with empty correlation and causation", got)
		}
	})
}

func testSubscribe(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Run("catches up then goes live with no gap and no duplicate under concurrent writers", func(t *testing.T) {
		s := newStore(t)
		for i := range 10 {
			mustAppend(t, s, fmt.Sprintf("alert-%d", i%3), eventstore.Any, newEvents("before", 1+i%2)...)
			mustAppend(t, s, "other-0", eventstore.Any, newEvent("before"))
		}
		const writers, appends = 4, 30
		midway := make(chan struct{})
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range appends {
					if w == 0 && i == appends/2 {
						close(midway)
					}
					stream := fmt.Sprintf("alert-w%d", w)
					if i%4 == 3 {
						stream = fmt.Sprintf("other-w%d", w)
					}
					if _, err := s.Append(t.Context(), stream, eventstore.Any, newEvents("during", 1+i%3)...); err != nil {
						errs <- fmt.Errorf("writer %d: %w", w, err)
						return
					}
				}
			})
		}
		<-midway
		all := subscribe(t, s, eventstore.Position{}, eventstore.Filter{})
		alerts := subscribe(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"alert-"}})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		end := newEvent("end")
		mustAppend(t, s, "alert-end", eventstore.NoStream, end)

		want := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		wantIDs(t, "unfiltered subscription", collectUntil(t, all, end.ID), ids(want))
		wantAlerts := readAll(t, s, eventstore.Position{}, eventstore.Filter{StreamPrefixes: []string{"alert-"}}, 0)
		if len(wantAlerts) == len(want) {
			t.Fatal("the filter kept every event; the test writes other- streams to be filtered out")
		}
		wantIDs(t, "filtered subscription", collectUntil(t, alerts, end.ID), ids(wantAlerts))
	})

	t.Run("starts after a non-zero position", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "log-1", eventstore.Any, newEvents("before", 10)...)
		before := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
		sub := subscribe(t, s, before[3].Position, eventstore.Filter{})
		later := newEvents("after", 2)
		mustAppend(t, s, "log-1", eventstore.Exact(9), later...)
		want := append(ids(before[4:]), dataIDs(later)...)
		wantIDs(t, "subscription from the 4th", collectUntil(t, sub, later[1].ID), want)
	})

	t.Run("from the head delivers only new events", func(t *testing.T) {
		s := newStore(t)
		r := mustAppend(t, s, "log-1", eventstore.Any, newEvents("before", 5)...)
		sub := subscribe(t, s, r.Position, eventstore.Filter{})
		later := newEvents("after", 3)
		for _, e := range later {
			mustAppend(t, s, "log-1", eventstore.Any, e)
		}
		wantIDs(t, "live events", collectUntil(t, sub, later[2].ID), dataIDs(later))
	})

	t.Run("a slow subscriber does not block appends and loses nothing", func(t *testing.T) {
		s := newStore(t)
		sub := subscribe(t, s, eventstore.Position{}, eventstore.Filter{})
		const appends, size = 20, 50
		done := make(chan error, 1)
		var last uuid.UUID
		go func() {
			for i := range appends {
				evs := newEvents("burst", size)
				if i == appends-1 {
					last = evs[size-1].ID
				}
				if _, err := s.Append(t.Context(), fmt.Sprintf("log-%d", i%3), eventstore.Any, evs...); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("append: %v", err)
			}
		case <-time.After(deadline):
			t.Fatalf("appends did not finish in %v while a subscriber did not read", deadline)
		}
		got := collectUntil(t, sub, last)
		wantIDs(t, "slow subscriber", got, ids(readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)))
		if len(got) != appends*size {
			t.Errorf("got %d events, want %d", len(got), appends*size)
		}
	})

	t.Run("close ends the channel and err is canceled", func(t *testing.T) {
		s := newStore(t)
		mustAppend(t, s, "log-1", eventstore.Any, newEvents("x", 3)...)
		sub, err := s.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		first := receive(t, sub)
		if err := sub.Err(); err != nil {
			t.Errorf("err while running: %v, want nil", err)
		}
		if first.Version != 0 {
			t.Errorf("first event has revision %d, want 0", first.Version)
		}
		closed := make(chan error, 1)
		go func() { closed <- sub.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("close: %v", err)
			}
		case <-time.After(deadline):
			t.Fatal("close did not return with undelivered events pending")
		}
		waitClosed(t, sub)
		if err := sub.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("err after close: %v, want context.Canceled", err)
		}
	})

	t.Run("cancelling the context ends the channel and err is canceled", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		sub, err := s.Subscribe(ctx, eventstore.Position{}, eventstore.Filter{})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		t.Cleanup(func() { _ = sub.Close() })
		e := newEvent("x")
		mustAppend(t, s, "log-1", eventstore.Any, e)
		if got := receive(t, sub); got.ID != e.ID {
			t.Fatalf("received %s, want %s", got.ID, e.ID)
		}
		cancel()
		waitClosed(t, sub)
		if err := sub.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("err after cancel: %v, want context.Canceled", err)
		}
	})
}

// Helpers.

func newEvent(kind string) eventstore.EventData {
	return eventstore.EventData{
		ID:            eventstore.NewEventID(),
		Type:          "test." + kind,
		Schema:        1,
		Data:          json.RawMessage(fmt.Sprintf(`{"kind":%q}`, kind)),
		Actor:         eventstore.Actor{ID: "storetest", Username: "storetest", Role: "system"},
		CorrelationID: "corr-" + kind,
		CausationID:   "cause-" + kind,
	}
}

func newEvents(kind string, n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = newEvent(kind)
	}
	return evs
}

func dataIDs(evs []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func ids(evs []eventstore.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func seq(from, to int) []uint64 {
	var s []uint64
	for i := from; i < to; i++ {
		s = append(s, uint64(i))
	}
	return s
}

func mustAppend(tb testing.TB, s eventstore.Store, stream string, exp eventstore.Expected, evs ...eventstore.EventData) eventstore.AppendResult {
	tb.Helper()
	r, err := s.Append(tb.Context(), stream, exp, evs...)
	if err != nil {
		tb.Fatalf("append %s (expected %s): %v", stream, exp, err)
	}
	return r
}

func readStream(tb testing.TB, s eventstore.Store, stream string, from uint64, dir eventstore.Direction, limit int) []eventstore.Event {
	tb.Helper()
	evs, err := s.ReadStream(tb.Context(), stream, from, dir, limit)
	if err != nil {
		tb.Fatalf("read stream %s: %v", stream, err)
	}
	return evs
}

func readAll(tb testing.TB, s eventstore.Store, from eventstore.Position, f eventstore.Filter, limit int) []eventstore.Event {
	tb.Helper()
	evs, err := s.ReadAll(tb.Context(), from, f, limit)
	if err != nil {
		tb.Fatalf("read all from %s: %v", from, err)
	}
	return evs
}

// refused appends one event with exp and checks the store refuses it with a
// VersionError naming the actual revision, and writes nothing.
func refused(t testing.TB, s eventstore.Store, stream string, exp eventstore.Expected, exists bool, actual uint64) {
	t.Helper()
	before := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
	_, err := s.Append(t.Context(), stream, exp, newEvent("refused"), newEvent("refused"))
	wantVersionError(t, err, stream, exp, exists, actual)
	wantUnchanged(t, s, before)
}

func wantVersionError(t testing.TB, err error, stream string, exp eventstore.Expected, exists bool, actual uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongVersion) {
		t.Fatalf("append %s expecting %s: got %v, want ErrWrongVersion", stream, exp, err)
	}
	var ve *eventstore.VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("append %s expecting %s: %v is not a *VersionError", stream, exp, err)
	}
	if ve.Stream != stream || ve.Expected != exp || ve.Exists != exists || (exists && ve.Actual != actual) {
		t.Errorf("version error {stream %q, expected %s, exists %v, actual %d}, want {%q, %s, %v, %d}",
			ve.Stream, ve.Expected, ve.Exists, ve.Actual, stream, exp, exists, actual)
	}
}

func wantUnchanged(t testing.TB, s eventstore.Store, before []eventstore.Event) {
	t.Helper()
	after := readAll(t, s, eventstore.Position{}, eventstore.Filter{}, 0)
	wantIDs(t, "$all after a refused append", after, ids(before))
}

func wantVersions(t testing.TB, evs []eventstore.Event, want ...uint64) {
	t.Helper()
	got := make([]uint64, len(evs))
	for i, e := range evs {
		got[i] = e.Version
	}
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("revisions %v, want %v", got, want)
	}
}

func wantIDs(t testing.TB, what string, evs []eventstore.Event, want []uuid.UUID) {
	t.Helper()
	got := ids(evs)
	if len(got) != len(want) {
		t.Errorf("%s: got %d events, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: event %d is %s, want %s", what, i, got[i], want[i])
			return
		}
	}
}

func wantIncreasing(t testing.TB, evs []eventstore.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].Position.Compare(evs[i-1].Position) <= 0 {
			t.Fatalf("position %s follows %s", evs[i].Position, evs[i-1].Position)
		}
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func subscribe(t testing.TB, s eventstore.Store, from eventstore.Position, f eventstore.Filter) eventstore.Subscription {
	t.Helper()
	sub, err := s.Subscribe(t.Context(), from, f)
	if err != nil {
		t.Fatalf("subscribe from %s: %v", from, err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func receive(t testing.TB, sub eventstore.Subscription) eventstore.Event {
	t.Helper()
	select {
	case e, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return e
	case <-time.After(deadline):
		t.Fatalf("no event within %v", deadline)
	}
	return eventstore.Event{}
}

// collectUntil receives events until the one with ID last, and checks they
// come in strictly increasing position order.
func collectUntil(t testing.TB, sub eventstore.Subscription, last uuid.UUID) []eventstore.Event {
	t.Helper()
	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	var got []eventstore.Event
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d events: %v", len(got), sub.Err())
			}
			if n := len(got); n > 0 && e.Position.Compare(got[n-1].Position) <= 0 {
				t.Fatalf("event %d at position %s follows position %s", n, e.Position, got[n-1].Position)
			}
			got = append(got, e)
			if e.ID == last {
				return got
			}
		case <-timeout.C:
			t.Fatalf("subscription: %d events received and not yet %s after %v", len(got), last, deadline)
		}
	}
}

// waitClosed drains the subscription until its channel closes.
func waitClosed(t testing.TB, sub eventstore.Subscription) {
	t.Helper()
	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	for {
		select {
		case _, ok := <-sub.Events():
			if !ok {
				return
			}
		case <-timeout.C:
			t.Fatalf("subscription channel still open %v after it ended", deadline)
		}
	}
}
