package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

func testStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, path
}

func testEvent(kind string) eventstore.EventData {
	return eventstore.EventData{
		ID: eventstore.NewEventID(), Type: "test." + kind, Schema: 1,
		Data:  json.RawMessage(`{"kind":"` + kind + `"}`),
		Actor: eventstore.Actor{ID: "t", Username: "t", Role: "system"},
	}
}

// newRequest builds an append as Append queues it.
func newRequest(t *testing.T, stream string, expected eventstore.Expected, events ...eventstore.EventData) *request {
	t.Helper()
	data, err := checkAppend(stream, events)
	if err != nil {
		t.Fatalf("check append: %v", err)
	}
	return eventstore.NewRequest(stream, expected, events, data)
}

// One group commit: each append is checked against the stream as the
// appends before it in the batch left it, and gets its own answer.
func TestBatchAnswersEachAppendOnItsOwn(t *testing.T) {
	s, _ := testStore(t)
	a, c, d := testEvent("a"), testEvent("c"), testEvent("d")
	multi := []eventstore.EventData{testEvent("m1"), testEvent("m2")}
	batch := []*request{
		newRequest(t, "alert-1", eventstore.NoStream, a),                 // 0: writes alert-1@0
		newRequest(t, "alert-1", eventstore.NoStream, testEvent("b")),    // 1: alert-1 exists now
		newRequest(t, "alert-1", eventstore.Exact(0), c),                 // 2: writes alert-1@1
		newRequest(t, "alert-2", eventstore.Any, a),                      // 3: a is in alert-1
		newRequest(t, "alert-1", eventstore.NoStream, a),                 // 4: retry of 0
		newRequest(t, "alert-1", eventstore.Exact(0), testEvent("late")), // 5: behind 2
		newRequest(t, "log-1", eventstore.Any, multi...),                 // 6: writes log-1@0..1
		newRequest(t, "log-1", eventstore.Any, multi[1], d),              // 7: half a retry
		newRequest(t, "alert-1", eventstore.StreamExists, d),             // 8: writes alert-1@2
	}
	if !s.commit(batch) {
		t.Fatal("commit reports nothing written")
	}
	for i, r := range batch {
		select {
		case <-r.Done():
		default:
			t.Fatalf("append %d not answered", i)
		}
	}
	for _, i := range []int{0, 2, 6, 8} {
		if r := batch[i]; r.Err != nil || !r.Wrote {
			t.Errorf("append %d: wrote %v, err %v; want written", i, r.Wrote, r.Err)
		}
	}
	if got := batch[2].Result.Revision; got != 1 {
		t.Errorf("append 2 at revision %d, want 1", got)
	}
	if got := batch[8].Result.Revision; got != 2 {
		t.Errorf("append 8 at revision %d, want 2", got)
	}
	var ve *eventstore.VersionError
	if r := batch[1]; !errors.As(r.Err, &ve) || !ve.Exists || ve.Actual != 0 {
		t.Errorf("append 1: %v, want a version error with actual 0", r.Err)
	}
	if r := batch[5]; !errors.As(r.Err, &ve) || ve.Actual != 1 {
		t.Errorf("append 5: %v, want a version error with actual 1", r.Err)
	}
	for _, i := range []int{3, 7} {
		if r := batch[i]; !errors.Is(r.Err, eventstore.ErrDuplicateEvent) {
			t.Errorf("append %d: %v, want ErrDuplicateEvent", i, r.Err)
		}
	}
	if r := batch[4]; r.Err != nil || r.Wrote || r.Result != batch[0].Result {
		t.Errorf("retry: %+v, wrote %v, %v; want the original %+v", r.Result, r.Wrote, r.Err, batch[0].Result)
	}

	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	want := []string{"alert-1@0 test.a", "alert-1@1 test.c", "log-1@0 test.m1", "log-1@1 test.m2", "alert-1@2 test.d"}
	if len(got) != len(want) {
		t.Fatalf("log holds %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if s := e.Stream + "@" + itoa(e.Version) + " " + e.Type; s != want[i] {
			t.Errorf("event %d is %s, want %s", i, s, want[i])
		}
		if i > 0 && !e.RecordedAt.Equal(got[0].RecordedAt) {
			t.Errorf("event %d recorded at %v, want the batch's %v", i, e.RecordedAt, got[0].RecordedAt)
		}
	}
	if batch[8].Result.Position != got[4].Position {
		t.Errorf("append 8 at %s, stored at %s", batch[8].Result.Position, got[4].Position)
	}
}

func itoa(n uint64) string { return eventstore.Seq(n).String() }

// An append whose statement fails (here a trigger stands in for any
// failure of one append's writes) gets that error; the others in its batch
// are committed all the same.
func TestBatchIsolatesAFailingAppend(t *testing.T) {
	s, path := testStore(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql open: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.stream = 'alert-boom'
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	batch := []*request{
		newRequest(t, "alert-1", eventstore.NoStream, testEvent("a")),
		newRequest(t, "alert-boom", eventstore.Any, testEvent("x"), testEvent("y")),
		newRequest(t, "alert-boom", eventstore.Any, testEvent("z")),
		newRequest(t, "alert-1", eventstore.Exact(0), testEvent("b")),
	}
	if !s.commit(batch) {
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
}

// An append whose context is cancelled while it waits for the writer is
// withdrawn: it reports the cancellation and writes nothing, while the
// append the writer was busy with goes through.
func TestCancelledQueuedAppendWritesNothing(t *testing.T) {
	s, path := testStore(t)
	// Another connection holds the write lock, so the writer's first batch
	// waits for it (busy_timeout) and later appends stay queued.
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatalf("sql open: %v", err)
	}
	defer db.Close()
	lock, err := db.Begin()
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	first := newRequest(t, "alert-1", eventstore.NoStream, testEvent("first"))
	if err := s.batches.Enqueue(t.Context(), first, errClosed); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	for !first.Taken() {
		runtime.Gosched() // until the writer takes it (the test's deadline bounds this)
	}
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "alert-2", eventstore.NoStream, testEvent("second"))
		second <- err
	}()
	for s.batches.Len() == 0 {
		runtime.Gosched()
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled append: %v, want context.Canceled", err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	<-first.Done()
	if first.Err != nil || !first.Wrote {
		t.Fatalf("first append: %v", first.Err)
	}
	// The writer skips the withdrawn append; a later one is written next.
	if _, err := s.Append(t.Context(), "alert-3", eventstore.NoStream, testEvent("third")); err != nil {
		t.Fatalf("third append: %v", err)
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 2 || got[0].Stream != "alert-1" || got[1].Stream != "alert-3" {
		t.Fatalf("log holds %+v (%v), want alert-1 then alert-3", got, err)
	}
}
