package sqlite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const (
	// batch is how many events a subscription reads per query.
	batch = 256
	// buffer is how many read events wait in a subscription's channel.
	buffer = 64
)

// Subscribe delivers every event after from that passes filter, first the
// stored ones, then new ones as they commit; see eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	after, err := seq(from)
	if err != nil {
		return nil, fmt.Errorf("subscribe from %s: %w", from, err)
	}
	filter.StreamPrefixes = slices.Clone(filter.StreamPrefixes)
	ctx, cancel := context.WithCancelCause(ctx)
	sub := &subscription{
		events: make(chan eventstore.Event, buffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	s.subsMu.Lock()
	if s.closed() {
		s.subsMu.Unlock()
		cancel(errClosed)
		return nil, fmt.Errorf("subscribe from %s: %w", from, errClosed)
	}
	s.subs[sub] = struct{}{}
	s.subsWG.Add(1)
	s.subsMu.Unlock()

	go func() {
		defer s.subsWG.Done()
		defer cancel(nil) // release the context once ended
		defer func() {
			s.subsMu.Lock()
			delete(s.subs, sub)
			s.subsMu.Unlock()
		}()
		sub.end(s.follow(ctx, sub.events, after, filter))
	}()
	return sub, nil
}

// follow sends events after after that pass filter until ctx ends or a
// read fails, and returns why it stopped.
func (s *Store) follow(ctx context.Context, out chan<- eventstore.Event, after int64, filter eventstore.Filter) error {
	var tick <-chan time.Time
	if s.poll > 0 {
		t := time.NewTicker(s.poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		wake := s.changed() // before the read: a commit during it is not missed
		evs, scanned, err := s.scan(ctx, after, filter, batch)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("subscribe after %d: %w", after, err)
		}
		for _, e := range evs {
			select {
			case out <- e:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		after = scanned
		if len(evs) == batch {
			continue // still catching up
		}
		select {
		case <-wake:
		case <-tick:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// subscription is a running catch-up subscription.
type subscription struct {
	events chan eventstore.Event
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu  sync.Mutex
	err error
}

// end records why the subscription ended and closes its channel.
func (sub *subscription) end(err error) {
	sub.mu.Lock()
	sub.err = err
	sub.mu.Unlock()
	close(sub.events)
	close(sub.done)
}

// Events is closed when the subscription ends.
func (sub *subscription) Events() <-chan eventstore.Event { return sub.events }

// Err says why the subscription ended: nil while it runs.
func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Close ends the subscription and waits for its goroutine. Err is then
// context.Canceled (unless it had already ended for another reason).
func (sub *subscription) Close() error {
	sub.cancel(context.Canceled)
	<-sub.done
	return nil
}
