package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// newRequest builds an append as Append queues it.
func newRequest(t *testing.T, stream string, expected eventstore.Expected, events ...eventstore.EventData) *request {
	t.Helper()
	rows, err := checkAppend(stream, events)
	if err != nil {
		t.Fatalf("check append: %v", err)
	}
	return eventstore.NewRequest(stream, expected, events, rows)
}

func label(e eventstore.Event) string {
	return fmt.Sprintf("%s@%d %s", e.Stream, e.Version, e.Type)
}

// One group commit: each append is checked against the stream, and the
// IDs stored, as the log and the appends before it in the batch left them,
// and gets its own answer.
func TestBatchAnswersEachAppendOnItsOwn(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	s := openDSN(t, dsn, "")
	pre := event("pre")
	preRes, err := s.Append(t.Context(), "alert-0", eventstore.NoStream, pre)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	a, c, d := event("a"), event("c"), event("d")
	multi := []eventstore.EventData{event("m1"), event("m2")}
	batch := []*request{
		newRequest(t, "alert-1", eventstore.NoStream, a),             // 0: writes alert-1@0
		newRequest(t, "alert-1", eventstore.NoStream, event("b")),    // 1: alert-1 exists now
		newRequest(t, "alert-1", eventstore.Exact(0), c),             // 2: writes alert-1@1
		newRequest(t, "alert-2", eventstore.Any, a),                  // 3: a is in alert-1
		newRequest(t, "alert-1", eventstore.NoStream, a),             // 4: retry of 0
		newRequest(t, "alert-1", eventstore.Exact(0), event("late")), // 5: behind 2
		newRequest(t, "log-1", eventstore.Any, multi...),             // 6: writes log-1@0..1
		newRequest(t, "log-1", eventstore.Any, multi[1], d),          // 7: half a retry
		newRequest(t, "alert-1", eventstore.StreamExists, d),         // 8: writes alert-1@2
		newRequest(t, "alert-0", eventstore.NoStream, pre),           // 9: retry of a stored append
		newRequest(t, "alert-0", eventstore.NoStream, event("x")),    // 10: alert-0 was stored before
		newRequest(t, "alert-0", eventstore.Exact(0), event("e")),    // 11: writes alert-0@1
	}
	if !s.commit(t.Context(), batch) {
		t.Fatal("commit reports nothing written")
	}
	for i, r := range batch {
		select {
		case <-r.Done():
		default:
			t.Fatalf("append %d not answered", i)
		}
	}
	for _, i := range []int{0, 2, 6, 8, 11} {
		if r := batch[i]; r.Err != nil || !r.Wrote {
			t.Errorf("append %d: wrote %v, err %v; want written", i, r.Wrote, r.Err)
		}
	}
	for i, want := range map[int]uint64{0: 0, 2: 1, 6: 1, 8: 2, 11: 1} {
		if got := batch[i].Result.Revision; got != want {
			t.Errorf("append %d at revision %d, want %d", i, got, want)
		}
	}
	var ve *eventstore.VersionError
	if r := batch[1]; !errors.As(r.Err, &ve) || !ve.Exists || ve.Actual != 0 {
		t.Errorf("append 1: %v, want a version error with actual 0", r.Err)
	}
	if r := batch[5]; !errors.As(r.Err, &ve) || ve.Actual != 1 {
		t.Errorf("append 5: %v, want a version error with actual 1", r.Err)
	}
	if r := batch[10]; !errors.As(r.Err, &ve) || !ve.Exists || ve.Actual != 0 {
		t.Errorf("append 10: %v, want a version error with actual 0", r.Err)
	}
	for _, i := range []int{3, 7} {
		if r := batch[i]; !errors.Is(r.Err, eventstore.ErrDuplicateEvent) {
			t.Errorf("append %d: %v, want ErrDuplicateEvent", i, r.Err)
		}
	}
	if r := batch[4]; r.Err != nil || r.Wrote || r.Result != batch[0].Result {
		t.Errorf("retry in the batch: %+v, wrote %v, %v; want the original %+v", r.Result, r.Wrote, r.Err, batch[0].Result)
	}
	if r := batch[9]; r.Err != nil || r.Wrote || r.Result != preRes {
		t.Errorf("retry of a stored append: %+v, wrote %v, %v; want the original %+v", r.Result, r.Wrote, r.Err, preRes)
	}

	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	want := []string{"alert-0@0 test.pre", "alert-1@0 test.a", "alert-1@1 test.c", "log-1@0 test.m1",
		"log-1@1 test.m2", "alert-1@2 test.d", "alert-0@1 test.e"}
	if len(got) != len(want) {
		t.Fatalf("log holds %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if l := label(e); l != want[i] {
			t.Errorf("event %d is %s, want %s", i, l, want[i])
		}
		if e.Position != eventstore.Seq(uint64(i+1)) {
			t.Errorf("event %d at %s, want %s", i, e.Position, eventstore.Seq(uint64(i+1)))
		}
		if i > 1 && !e.RecordedAt.Equal(got[1].RecordedAt) {
			t.Errorf("event %d recorded at %v, want the batch's %v", i, e.RecordedAt, got[1].RecordedAt)
		}
	}
	for i, at := range map[int]int{0: 1, 2: 2, 6: 4, 8: 5, 11: 6} {
		if batch[i].Result.Position != got[at].Position {
			t.Errorf("append %d answered %s, stored at %s", i, batch[i].Result.Position, got[at].Position)
		}
	}
	var head int64
	if err := admin(t, dsn).QueryRow(t.Context(), `SELECT position FROM es_head`).Scan(&head); err != nil || head != 7 {
		t.Errorf("es_head at %d (%v), want 7", head, err)
	}
}

// An append whose statement fails (here a trigger stands in for any
// failure of one append's writes, which aborts a Postgres transaction)
// gets that error; the others in its batch are committed all the same,
// with no hole in the positions.
func TestBatchIsolatesAFailingAppend(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	s := openDSN(t, dsn, "")
	if _, err := admin(t, dsn).Exec(t.Context(), `
		CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.stream = 'alert-boom' THEN RAISE EXCEPTION 'boom'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER boom BEFORE INSERT ON es_events FOR EACH ROW EXECUTE FUNCTION boom();`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	batch := []*request{
		newRequest(t, "alert-1", eventstore.NoStream, event("a")),
		newRequest(t, "alert-boom", eventstore.Any, event("x"), event("y")),
		newRequest(t, "alert-boom", eventstore.Any, event("z")),
		newRequest(t, "alert-1", eventstore.Exact(0), event("b")),
	}
	if !s.commit(t.Context(), batch) {
		t.Fatal("commit reports nothing written")
	}
	for _, i := range []int{1, 2} {
		r := batch[i]
		if r.Err == nil || errors.Is(r.Err, eventstore.ErrWrongVersion) || errors.Is(r.Err, eventstore.ErrDuplicateEvent) {
			t.Errorf("append %d: %v, want the trigger's error", i, r.Err)
		}
	}
	for _, i := range []int{0, 3} {
		if r := batch[i]; r.Err != nil || !r.Wrote {
			t.Errorf("append %d: %v, want written", i, r.Err)
		}
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 2 || got[0].Type != "test.a" || got[1].Type != "test.b" {
		t.Fatalf("log holds %+v (%v), want a then b", got, err)
	}
	if got[0].Position != eventstore.Seq(1) || got[1].Position != eventstore.Seq(2) {
		t.Errorf("positions %s, %s; want 1, 2", got[0].Position, got[1].Position)
	}
}

// holdHead locks the head of the log from another session, as an append
// of another instance would, until the returned func releases it.
func holdHead(t *testing.T, dsn string) (release func()) {
	t.Helper()
	tx, err := admin(t, dsn).Begin(t.Context())
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT position FROM es_head FOR UPDATE`); err != nil {
		t.Fatalf("lock es_head: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Rollback(context.Background()); err != nil {
				t.Errorf("rollback: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// queue hands r to the writer and waits until the writer takes it.
func queue(t *testing.T, s *Store, r *request) {
	t.Helper()
	if err := s.batches.Enqueue(t.Context(), r, errClosed); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	for !r.Taken() {
		runtime.Gosched() // until the writer takes it (the test's deadline bounds this)
	}
}

// An append whose context is cancelled while it waits for the writer is
// withdrawn: it reports the cancellation and writes nothing, while the
// batch the writer was busy with goes through.
func TestCancelledQueuedAppendWritesNothing(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	s := openDSN(t, dsn, "")
	release := holdHead(t, dsn) // the writer's first batch waits for it
	first := newRequest(t, "alert-1", eventstore.NoStream, event("first"))
	queue(t, s, first)
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "alert-2", eventstore.NoStream, event("second"))
		second <- err
	}()
	for s.batches.Len() == 0 {
		runtime.Gosched()
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append: %v, want context.Canceled", err)
	}
	release()
	<-first.Done()
	if first.Err != nil || !first.Wrote {
		t.Fatalf("first append: %v", first.Err)
	}
	// The writer skips the withdrawn append; a later one is written next.
	if _, err := s.Append(t.Context(), "alert-3", eventstore.NoStream, event("third")); err != nil {
		t.Fatalf("third append: %v", err)
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 2 || got[0].Stream != "alert-1" || got[1].Stream != "alert-3" {
		t.Fatalf("log holds %+v (%v), want alert-1 then alert-3", got, err)
	}
}

// A batch every caller of which gave up is cancelled, even while it waits
// for another instance's lock: the writer is free for the next appends
// and nothing of the abandoned batch is written.
func TestAbandonedBatchIsCancelled(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	s := openDSN(t, dsn, "")
	release := holdHead(t, dsn)
	r := newRequest(t, "alert-1", eventstore.NoStream, event("abandoned"))
	queue(t, s, r)
	// What Append does when its context ends after the writer took it:
	// give up, and wait for the answer.
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.batches.Wait(gone, r, errClosed); !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned append: %v, want context.Canceled", err)
	}
	release()
	if _, err := s.Append(t.Context(), "alert-2", eventstore.NoStream, event("next")); err != nil {
		t.Fatalf("next append: %v", err)
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 1 || got[0].Stream != "alert-2" || got[0].Position != eventstore.Seq(1) {
		t.Fatalf("log holds %+v (%v), want only alert-2 at 1", got, err)
	}
}

// Instances on one schema each run their own writer; the database still
// serialises them. In every round, appends racing for one revision from
// two instances have exactly one winner, and every loser is told the
// winner's revision.
func TestInstancesHaveOneWinnerPerRevision(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	stores := []*Store{openDSN(t, dsn, ""), openDSN(t, dsn, "")}
	const rounds, racers = 8, 12
	for round := range rounds {
		expected := eventstore.NoStream
		if round > 0 {
			expected = eventstore.Exact(uint64(round - 1))
		}
		type result struct {
			res eventstore.AppendResult
			err error
		}
		results := make(chan result, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				res, err := stores[i%len(stores)].Append(t.Context(), "alert-1", expected, event("race"))
				results <- result{res, err}
			})
		}
		wg.Wait()
		close(results)
		winners := 0
		for r := range results {
			var ve *eventstore.VersionError
			switch {
			case r.err == nil:
				winners++
				if r.res.Revision != uint64(round) {
					t.Errorf("round %d: winner at revision %d", round, r.res.Revision)
				}
			case errors.As(r.err, &ve):
				if !ve.Exists || ve.Actual != uint64(round) {
					t.Errorf("round %d: loser told revision %d (exists %v), want %d", round, ve.Actual, ve.Exists, round)
				}
			default:
				t.Fatalf("round %d: %v", round, r.err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, winners)
		}
	}
	got, err := stores[0].ReadStream(t.Context(), "alert-1", 0, eventstore.Forwards, 0)
	if err != nil || len(got) != rounds {
		t.Fatalf("stream holds %d events (%v), want %d", len(got), err, rounds)
	}
	for i, e := range got {
		if e.Version != uint64(i) || (i > 0 && e.Position.Compare(got[i-1].Position) <= 0) {
			t.Errorf("event %d: revision %d at %s", i, e.Version, e.Position)
		}
	}
}
