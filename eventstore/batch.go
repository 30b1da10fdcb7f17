package eventstore

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
)

// GroupCommit is the queue between an adapter's Append calls and its one
// writer goroutine, which commits every append waiting at that moment in
// one transaction (group commit). P is what the adapter prepares for each
// append before it is queued (its rows, say).
//
// A queued append is taken by the writer or withdrawn by its caller
// (cancelled context, closed store), whichever comes first: a withdrawn
// append is never written, a taken one is always answered.
type GroupCommit[P any] struct {
	queue          chan *Request[P]
	stopped        chan struct{}
	maxBatch       int
	maxBatchEvents int
}

// NewGroupCommit returns a queue of up to queued appends; a batch takes at
// most maxBatch appends, and stops taking more once they carry
// maxBatchEvents events (it always takes at least one, however large).
func NewGroupCommit[P any](queued, maxBatch, maxBatchEvents int) *GroupCommit[P] {
	return &GroupCommit[P]{
		queue:          make(chan *Request[P], queued),
		stopped:        make(chan struct{}),
		maxBatch:       maxBatch,
		maxBatchEvents: maxBatchEvents,
	}
}

// A request's state: the writer takes it, or its caller withdraws it,
// whichever comes first.
const (
	pending int32 = iota
	taken
	withdrawn
)

// Request is one append on its way through a GroupCommit. Result, Wrote
// and Err are its answer, set by the writer before Done is closed.
type Request[P any] struct {
	Stream   string
	Expected Expected
	Events   []EventData
	Payload  P

	Result AppendResult
	Wrote  bool // false for an idempotent retry, a mismatch, a failure
	Err    error

	state atomic.Int32
	group *batchGroup   // set by the writer before it takes the request
	done  chan struct{} // closed by Answer
}

// NewRequest returns an append to queue; payload is what the adapter
// prepared for it.
func NewRequest[P any](stream string, expected Expected, events []EventData, payload P) *Request[P] {
	return &Request[P]{Stream: stream, Expected: expected, Events: events, Payload: payload, done: make(chan struct{})}
}

// Answer hands a request its outcome.
func (r *Request[P]) Answer(o Outcome) {
	r.Result, r.Wrote, r.Err = o.Result, o.Wrote, o.Err
	close(r.done)
}

// Done is closed once the request is answered.
func (r *Request[P]) Done() <-chan struct{} { return r.done }

// Taken reports whether the writer took the request (then it is, or will
// be, answered), as opposed to its still waiting, or being withdrawn.
func (r *Request[P]) Taken() bool { return r.state.Load() == taken }

// Outcome is one append's result within a batch.
type Outcome struct {
	Result AppendResult
	Wrote  bool // false for an idempotent retry, a mismatch, a failure
	Err    error
}

// AnswerAll answers each request of batch with its outcome, and reports
// whether any of them wrote.
func AnswerAll[P any](batch []*Request[P], outcomes []Outcome) bool {
	wrote := false
	for i, r := range batch {
		r.Answer(outcomes[i])
		wrote = wrote || outcomes[i].Wrote
	}
	return wrote
}

// FailAll answers every request of batch with err.
func FailAll[P any](batch []*Request[P], err error) {
	for _, r := range batch {
		r.Answer(Outcome{Err: err})
	}
}

// batchGroup is the context of one batch's transaction. It is not any
// caller's: one caller giving up must not undo the others' appends. It is
// cancelled only when every caller in the batch has given up (then nobody
// waits for the outcome, and a hung server must not hold the writer).
type batchGroup struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiting atomic.Int32 // callers still waiting, plus one while the writer gathers
}

// leave records that one waiter gave up, and cancels the batch if it was
// the last.
func (g *batchGroup) leave() {
	if g.waiting.Add(-1) == 0 {
		g.cancel()
	}
}

// Append queues r and waits for its answer (Enqueue, then Wait).
func (q *GroupCommit[P]) Append(ctx context.Context, r *Request[P], closed error) (AppendResult, error) {
	if err := q.Enqueue(ctx, r, closed); err != nil {
		return AppendResult{}, err
	}
	return q.Wait(ctx, r, closed)
}

// Enqueue queues r for the writer, waiting for room if the queue is full:
// it fails with ctx's error, or closed once the writer stopped (see Run).
func (q *GroupCommit[P]) Enqueue(ctx context.Context, r *Request[P], closed error) error {
	select {
	case q.queue <- r:
		return nil
	case <-q.stopped:
		return closed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits for the answer to a queued r, and returns it. A context
// cancelled while r is still queued withdraws it (nothing is written) and
// Wait returns ctx's error; so does a writer that stopped before taking
// it, with closed. Once the writer has taken r, Wait waits for its answer
// whatever happens (and r.Taken reports true); a caller that gives up then
// counts towards cancelling the batch (see Run).
func (q *GroupCommit[P]) Wait(ctx context.Context, r *Request[P], closed error) (AppendResult, error) {
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, withdrawn) {
			return AppendResult{}, ctx.Err()
		}
		r.group.leave()
		<-r.done
	case <-q.stopped: // the writer is gone: it took r and answered, or never will
		if r.state.CompareAndSwap(pending, withdrawn) {
			return AppendResult{}, closed
		}
		<-r.done
	}
	return r.Result, r.Err
}

// Len is how many requests wait in the queue.
func (q *GroupCommit[P]) Len() int { return len(q.queue) }

// Run is the writer goroutine: it takes the appends waiting in the queue
// and hands them to commit, which must answer each, until done is closed
// (after the batch in flight); a batch gathered once done is closed is
// answered closed. Run closes Stopped when it returns; from then on
// Enqueue and Wait fail with closed.
//
// commit's context is not any caller's: one caller giving up must not undo
// the others' appends. It is cancelled only when every caller in the
// batch has given up (then nobody waits for the outcome, and a hung server
// must not hold the writer).
func (q *GroupCommit[P]) Run(done <-chan struct{}, closed error, commit func(ctx context.Context, batch []*Request[P])) {
	defer close(q.stopped)
	batch := make([]*Request[P], 0, q.maxBatch)
	for {
		select {
		case <-done:
			return
		case r := <-q.queue:
			g := &batchGroup{}
			g.ctx, g.cancel = context.WithCancel(context.Background())
			g.waiting.Store(1) // the writer's own hold while it gathers
			batch = q.gather(g, append(batch[:0], r))
			g.leave()
			if len(batch) > 0 {
				select {
				case <-done:
					FailAll(batch, closed)
					g.cancel()
					return
				default:
				}
				commit(g.ctx, batch)
			}
			g.cancel()
			clear(batch) // let the answered requests go
		}
	}
}

// Stopped is closed once Run has returned.
func (q *GroupCommit[P]) Stopped() <-chan struct{} { return q.stopped }

// gather takes the appends of batch, and every other append already
// waiting (up to maxBatch appends or maxBatchEvents events), skipping
// those their callers withdrew.
func (q *GroupCommit[P]) gather(g *batchGroup, batch []*Request[P]) []*Request[P] {
	n, events := 0, 0
	take := func(r *Request[P]) {
		g.waiting.Add(1)
		r.group = g
		if r.state.CompareAndSwap(pending, taken) {
			batch[n] = r
			n++
			events += len(r.Events)
			return
		}
		g.waiting.Add(-1)
	}
	take(batch[0])
more:
	for len(batch) < q.maxBatch && events < q.maxBatchEvents {
		select {
		case r := <-q.queue:
			batch = append(batch, r)
			take(r)
		default:
			break more
		}
	}
	clear(batch[n:])
	return batch[:n]
}

// Stored is where an already appended event sits.
type Stored struct {
	Stream   string
	Version  uint64
	Position uint64
}

// Retried decides an append some of whose IDs are already stored (found):
// an exact retry (every event stored, in this stream, at consecutive
// revisions in this order, where expected would have put them) returns the
// original result; anything else is ErrDuplicateEvent.
func Retried(stream string, expected Expected, events []EventData, found map[uuid.UUID]Stored) (AppendResult, error) {
	first, ok := found[events[0].ID]
	if len(found) != len(events) || !ok {
		return AppendResult{}, fmt.Errorf("%w: %d of %d events already stored", ErrDuplicateEvent, len(found), len(events))
	}
	for i, e := range events {
		st := found[e.ID]
		if st.Stream != stream || st.Version != first.Version+uint64(i) {
			return AppendResult{}, fmt.Errorf("%w: %s is stored as %s@%d", ErrDuplicateEvent, e.ID, st.Stream, st.Version)
		}
	}
	if !expected.Check(first.Version-1, first.Version > 0) {
		return AppendResult{}, fmt.Errorf("%w: stored at revision %d, not where %s puts them", ErrDuplicateEvent, first.Version, expected)
	}
	last := found[events[len(events)-1].ID]
	return AppendResult{Revision: last.Version, Position: Seq(last.Position)}, nil
}
