package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// Handler executes commands against the event store.
type Handler struct {
	store eventstore.Store
	now   func() time.Time
	// retries and retryFor bound the reload-and-retry loop on concurrent
	// appends: it gives up once both are spent (and always when ctx is).
	retries  int
	retryFor time.Duration
	// cache holds recently folded aggregates; nil when off.
	cache *cache
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock injects the clock commands are stamped with.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithCache sets how many folded aggregates the handler keeps between
// commands (default DefaultCache); n <= 0 turns the cache off, so that
// every Load reads its whole stream.
func WithCache(n int) Option { return func(h *Handler) { h.cache = newCache(n) } }

// DefaultRetryFor is how long Execute keeps retrying a command that lost
// the race for its stream to other writers. A retry reloads the stream and
// decides again, so it is as correct as the first attempt (a precondition
// or invariant the other writers broke stops it); only contention ends
// it, and six writers on one day's log lose many races in a row (issue 14
// item 15: a fixed 9 attempts made 2–20% of novedades fail "busy").
const DefaultRetryFor = 2 * time.Second

// WithRetryFor sets how long Execute retries on concurrent appends after
// its first 9 attempts (default DefaultRetryFor; 0: only those 9).
func WithRetryFor(d time.Duration) Option { return func(h *Handler) { h.retryFor = d } }

// New returns a Handler over store.
func New(store eventstore.Store, opts ...Option) *Handler {
	h := &Handler{store: store, now: time.Now, retries: 8, retryFor: DefaultRetryFor, cache: newCache(DefaultCache)}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Now is the handler's clock, for stamping commands (At).
func (h *Handler) Now() time.Time { return h.now().UTC() }

// Meta is who asked, and why, recorded on every resulting event.
type Meta struct {
	Actor         eventstore.Actor
	CorrelationID string
	CausationID   string
}

// Loaded is an aggregate folded from its stream.
type Loaded struct {
	Stream string
	State  domain.Aggregate
	// Revision is the revision of the stream's last event; meaningful only
	// when the stream has events (Exists).
	Revision uint64
	// Last is the envelope of the stream's last event (nil if none): who
	// changed it last, and when.
	Last *eventstore.Event
}

// Exists reports whether the stream has events.
func (l Loaded) Exists() bool { return l.Last != nil }

// next is the revision of the stream's next event.
func (l Loaded) next() uint64 {
	if !l.Exists() {
		return 0
	}
	return l.Revision + 1
}

// Result is what Execute did.
type Result struct {
	Loaded
	// Events are the appended envelopes (empty when the command changed
	// nothing).
	Events []eventstore.Event
	// Position is the global position of the last appended event.
	Position eventstore.Position
}

// Precondition inspects the loaded state before Decide; an error stops the
// command. IfVersion, IfAbsent and IfVersionEvenIfAbsent check the version
// of the item the client edits (its If-Match or If-None-Match).
type Precondition func(l Loaded) error

// Load reads and folds a stream. The returned state is the caller's own.
//
// With the cache (the default), a stream folded before is not read again
// from its start: Load copies the cached state and reads and folds only
// the events after its revision, so it also sees what other handlers or
// processes appended meanwhile. After this handler's own Execute, Last is
// the envelope Execute returned (its RecordedAt is the handler's clock).
func (h *Handler) Load(ctx context.Context, stream string) (Loaded, error) {
	l, cached := h.cache.get(stream)
	if !cached {
		l = Loaded{Stream: stream, State: domain.NewAggregate(stream)}
		if l.State == nil {
			return l, fmt.Errorf("load %s: unknown stream type", stream)
		}
	}
	events, err := h.store.ReadStream(ctx, stream, l.next(), eventstore.Forwards, 0)
	if err != nil {
		return l, fmt.Errorf("load %s: %w", stream, err)
	}
	if cached && len(events) > 0 && events[0].Version != l.next() {
		// Not the stream the cache knew (it cannot happen with these
		// stores, which never delete): forget it and read it all.
		h.cache.drop(stream)
		return h.Load(ctx, stream)
	}
	for i := range events {
		e, err := domain.Decode(events[i].Type, events[i].Schema, events[i].Data)
		if err != nil {
			h.cache.drop(stream)
			return l, fmt.Errorf("load %s@%d: %w", stream, events[i].Version, err)
		}
		l.State.Apply(e)
		l.Revision = events[i].Version
		l.Last = &events[i]
	}
	if len(events) > 0 {
		h.cache.put(l)
	}
	return l, nil
}

// Execute runs one command on stream: load, precondition, Decide, Append
// with the expected revision of the loaded state. pre may be nil. build
// makes the command from the loaded state (most callers ignore it and
// return a prepared command).
func (h *Handler) Execute(ctx context.Context, stream string, meta Meta, pre Precondition, build func(Loaded) (domain.Command, error)) (Result, error) {
	var lastErr error
	start := time.Now()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > h.retries && time.Since(start) >= h.retryFor {
				break
			}
			if err := backoff(ctx, attempt); err != nil {
				return Result{}, fmt.Errorf("execute on %s: %w (after %d concurrent changes: %w)", stream, err, attempt, lastErr)
			}
		}
		l, err := h.Load(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		if pre != nil {
			if err := pre(l); err != nil {
				return Result{Loaded: l}, err
			}
		}
		cmd, err := build(l)
		if err != nil {
			return Result{Loaded: l}, err
		}
		evs, err := l.State.Decide(cmd)
		if err != nil {
			return Result{Loaded: l}, err
		}
		if len(evs) == 0 {
			return Result{Loaded: l}, nil
		}
		data := make([]eventstore.EventData, len(evs))
		for i, e := range evs {
			typ, schema, raw, err := domain.Encode(e)
			if err != nil {
				return Result{Loaded: l}, err
			}
			data[i] = eventstore.EventData{
				ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw,
				Actor: meta.Actor, CorrelationID: meta.CorrelationID, CausationID: meta.CausationID,
			}
		}
		expected := eventstore.NoStream
		if l.Exists() {
			expected = eventstore.Exact(l.Revision)
		}
		res, err := h.store.Append(ctx, stream, expected, data...)
		if errors.Is(err, eventstore.ErrWrongVersion) {
			lastErr = err
			continue
		}
		if err != nil {
			return Result{Loaded: l}, fmt.Errorf("execute on %s: %w", stream, err)
		}
		out, exact := h.result(l, evs, data, res)
		if exact {
			h.cache.put(out.Loaded)
		} else {
			h.cache.drop(stream)
		}
		return out, nil
	}
	return Result{}, fmt.Errorf("execute on %s: gave up after concurrent changes for %s: %w", stream, time.Since(start).Round(time.Millisecond), lastErr)
}

// backoff waits before retry attempt (1, 2, …): a random time up to
// 250µs·2^attempt, at most 20 ms, so that writers who collided spread out
// instead of colliding again. It returns ctx's error if ctx ends first.
func backoff(ctx context.Context, attempt int) error {
	limit := min(250*time.Microsecond<<min(attempt, 10), 20*time.Millisecond)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// result folds the appended events into the loaded state and builds their
// envelopes as the store recorded them. It folds the events as a later
// Load would, decoded from the data appended (so that the state it
// caches is exactly what folding the stream gives); exact is false if one
// did not decode, and the decided event was folded instead.
func (h *Handler) result(l Loaded, evs []domain.Event, data []eventstore.EventData, res eventstore.AppendResult) (out Result, exact bool) {
	out = Result{Loaded: l, Position: res.Position}
	exact = true
	first := res.Revision - uint64(len(evs)) + 1
	for i, e := range evs {
		if stored, err := domain.Decode(data[i].Type, data[i].Schema, data[i].Data); err == nil {
			out.State.Apply(stored)
		} else {
			out.State.Apply(e)
			exact = false
		}
		env := eventstore.Event{
			ID: data[i].ID, Stream: l.Stream, Type: data[i].Type, Version: first + uint64(i),
			RecordedAt: h.Now(), Actor: data[i].Actor, CorrelationID: data[i].CorrelationID,
			CausationID: data[i].CausationID, Schema: data[i].Schema, Data: data[i].Data,
		}
		if i == len(evs)-1 {
			env.Position = res.Position
		}
		out.Events = append(out.Events, env)
	}
	out.Revision = res.Revision
	out.Last = &out.Events[len(out.Events)-1]
	return out, exact
}

// Command returns a build function for a command that does not depend on
// the loaded state.
func Command(c domain.Command) func(Loaded) (domain.Command, error) {
	return func(Loaded) (domain.Command, error) { return c, nil }
}
