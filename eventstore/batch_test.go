package eventstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/uuid"
)

var errTestClosed = errors.New("closed")

func events(n int) []EventData {
	es := make([]EventData, n)
	for i := range es {
		es[i] = EventData{ID: uuid.New(), Type: "test"}
	}
	return es
}

// writer runs q's writer, handing each batch it commits to batches, until
// the returned stop is called; commit answers each append with its index
// in the batch as Revision. hold, if not nil, is waited on before each
// batch is answered.
func writer(t *testing.T, q *GroupCommit[int], hold <-chan struct{}) (batches <-chan []int, stop func()) {
	t.Helper()
	out := make(chan []int, 64)
	done := make(chan struct{})
	go q.Run(done, errTestClosed, func(ctx context.Context, batch []*Request[int]) {
		if hold != nil {
			<-hold
		}
		ids := make([]int, len(batch))
		outcomes := make([]Outcome, len(batch))
		for i, r := range batch {
			ids[i] = r.Payload
			outcomes[i] = Outcome{Result: AppendResult{Revision: uint64(i)}, Wrote: true}
		}
		out <- ids
		AnswerAll(batch, outcomes)
	})
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			close(done)
			<-q.Stopped()
		}
	}
	t.Cleanup(stop)
	return out, stop
}

// Appends queued while the writer is busy go into its next batch, in the
// order they were queued, and each caller gets its own answer.
func TestGroupCommitBatchesInOrder(t *testing.T) {
	q := NewGroupCommit[int](16, 8, 100)
	for i := range 5 {
		if err := q.Enqueue(t.Context(), NewRequest("s", Any, events(1), i), errTestClosed); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	batches, _ := writer(t, q, nil)
	if got := <-batches; fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("batch %v, want [0 1 2 3 4]", got)
	}
	res, err := q.Append(t.Context(), NewRequest("s", Any, events(1), 5), errTestClosed)
	if err != nil || res.Revision != 0 {
		t.Fatalf("append: %+v, %v; want the answer of a batch of its own", res, err)
	}
}

// A batch stops at maxBatch appends, or once its appends carry
// maxBatchEvents events; it always takes at least one append.
func TestGroupCommitBatchLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sizes  []int // events per append, in queue order
		want   string
		limits [2]int // maxBatch, maxBatchEvents
	}{
		{"appends", []int{1, 1, 1, 1, 1}, "[[0 1] [2 3] [4]]", [2]int{2, 100}},
		{"events", []int{3, 3, 1, 1, 2}, "[[0 1] [2 3 4]]", [2]int{10, 5}},
		{"one large append", []int{9, 1}, "[[0] [1]]", [2]int{10, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewGroupCommit[int](16, tc.limits[0], tc.limits[1])
			rs := make([]*Request[int], len(tc.sizes))
			for i, n := range tc.sizes {
				rs[i] = NewRequest("s", Any, events(n), i)
				if err := q.Enqueue(t.Context(), rs[i], errTestClosed); err != nil {
					t.Fatalf("enqueue %d: %v", i, err)
				}
			}
			batches, _ := writer(t, q, nil)
			var got [][]int
			for _, r := range rs {
				<-r.Done()
			}
			for len(batches) > 0 {
				got = append(got, <-batches)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("batches %v, want %s", got, tc.want)
			}
		})
	}
}

// An append whose context ends while it is queued is withdrawn: its caller
// gets the context's error and the writer skips it. One whose context ends
// after the writer took it still gets the writer's answer.
func TestGroupCommitWithdrawal(t *testing.T) {
	q := NewGroupCommit[int](16, 8, 100)
	hold := make(chan struct{})
	batches, _ := writer(t, q, hold)

	first := NewRequest("s", Any, events(1), 0)
	if err := q.Enqueue(t.Context(), first, errTestClosed); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	for !first.Taken() {
		runtime.Gosched() // until the writer takes it (the test's deadline bounds this)
	}
	// The writer is busy with first: these wait in the queue.
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	withdrawn := NewRequest("s", Any, events(1), 1)
	if err := q.Enqueue(t.Context(), withdrawn, errTestClosed); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if _, err := q.Wait(gone, withdrawn, errTestClosed); !errors.Is(err, context.Canceled) {
		t.Fatalf("withdrawn append: %v, want context.Canceled", err)
	}
	if withdrawn.Taken() {
		t.Fatal("withdrawn append taken")
	}
	last := NewRequest("s", Any, events(1), 2)
	if err := q.Enqueue(t.Context(), last, errTestClosed); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	// first's caller gives up, but first was taken: it gets the answer.
	close(hold)
	if res, err := q.Wait(gone, first, errTestClosed); err != nil || res.Revision != 0 {
		t.Fatalf("taken append: %+v, %v; want its answer", res, err)
	}
	if res, err := q.Wait(t.Context(), last, errTestClosed); err != nil || res.Revision != 0 {
		t.Fatalf("last append: %+v, %v; want its answer", res, err)
	}
	if got := fmt.Sprint(<-batches, <-batches); got != "[0] [2]" {
		t.Errorf("batches %s, want [0] [2]", got)
	}
}

// A batch's context is cancelled once every caller in it gave up, not
// before.
func TestGroupCommitAbandonedBatch(t *testing.T) {
	q := NewGroupCommit[int](16, 8, 100)
	rs := []*Request[int]{NewRequest("s", Any, events(1), 0), NewRequest("s", Any, events(1), 1)}
	for _, r := range rs {
		if err := q.Enqueue(t.Context(), r, errTestClosed); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	cancelled := make(chan error, 2)
	done := make(chan struct{})
	defer func() { close(done); <-q.Stopped() }()
	go q.Run(done, errTestClosed, func(ctx context.Context, batch []*Request[int]) {
		select {
		case <-ctx.Done():
			t.Error("batch cancelled before anyone gave up")
		default:
		}
		// The test gives up on each in turn; only the last cancels.
		gone, cancel := context.WithCancel(context.Background())
		cancel()
		waited := make(chan error, 1)
		go func() { _, err := q.Wait(gone, batch[0], errTestClosed); waited <- err }()
		for batch[0].group.waiting.Load() != 1 {
			runtime.Gosched()
		}
		select {
		case <-ctx.Done():
			t.Error("batch cancelled while a caller still waits")
		default:
		}
		go func() { _, err := q.Wait(gone, batch[1], errTestClosed); waited <- err }()
		<-ctx.Done()
		FailAll(batch, ctx.Err())
		cancelled <- <-waited
		cancelled <- <-waited
	})
	for range 2 {
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned append: %v, want context.Canceled", err)
		}
	}
}

// Once the writer stopped, queued appends and new ones fail with closed.
func TestGroupCommitClosed(t *testing.T) {
	q := NewGroupCommit[int](16, 8, 100)
	_, stop := writer(t, q, nil)
	stop()
	r := NewRequest("s", Any, events(1), 0)
	if _, err := q.Append(t.Context(), r, errTestClosed); !errors.Is(err, errTestClosed) {
		t.Fatalf("append after stop: %v, want closed", err)
	}
}

func TestRetried(t *testing.T) {
	es := events(2)
	found := map[uuid.UUID]Stored{es[0].ID: {"s", 3, 10}, es[1].ID: {"s", 4, 11}}
	if res, err := Retried("s", Exact(2), es, found); err != nil || res != (AppendResult{Revision: 4, Position: Seq(11)}) {
		t.Errorf("exact retry: %+v, %v; want the original result", res, err)
	}
	for name, tc := range map[string]struct {
		stream   string
		expected Expected
		found    map[uuid.UUID]Stored
	}{
		"other stream":    {"t", Exact(2), found},
		"other revision":  {"s", Exact(1), found},
		"partly stored":   {"s", Exact(2), map[uuid.UUID]Stored{es[0].ID: {"s", 3, 10}}},
		"another order":   {"s", Exact(2), map[uuid.UUID]Stored{es[0].ID: {"s", 4, 11}, es[1].ID: {"s", 3, 10}}},
		"new stream want": {"s", NoStream, found},
	} {
		if _, err := Retried(tc.stream, tc.expected, es, tc.found); !errors.Is(err, ErrDuplicateEvent) {
			t.Errorf("%s: %v, want ErrDuplicateEvent", name, err)
		}
	}
}
