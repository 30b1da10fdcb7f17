package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const (
	// batch is how many events a subscription reads per query.
	batch = 256
	// buffer is how many read events wait in a subscription's channel.
	buffer = 64
	// minBackoff and maxBackoff bound the wait before a reconnect or a
	// retried read after the database became unreachable.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Subscribe delivers every event after from that passes filter, first the
// stored ones, then new ones as they commit; see eventstore.Store. It
// wakes on this Store's appends, on NOTIFY from appends anywhere else, and
// every poll interval; while the database is unreachable it retries with
// backoff rather than ending.
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
	if s.ctx.Err() != nil {
		s.subsMu.Unlock()
		cancel(errClosed)
		return nil, fmt.Errorf("subscribe from %s: %w", from, errClosed)
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.subsMu.Unlock()
	if s.listen {
		s.listenOnce.Do(func() {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.listenLoop()
			}()
		})
	}

	go func() {
		defer s.wg.Done()
		defer cancel(nil)
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
// read fails for good, and returns why it stopped.
func (s *Store) follow(ctx context.Context, out chan<- eventstore.Event, after int64, filter eventstore.Filter) error {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	backoff := minBackoff
	for {
		wake := s.changed() // before the read: a commit during it is not missed
		evs, scanned, err := s.scan(ctx, after, filter, batch)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if !unavailable(err) {
				return fmt.Errorf("subscribe after %d: %w", after, err)
			}
			// The database is away: wait and read again from the same place.
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
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
		case <-tick.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// listenLoop keeps one connection LISTENing on the schema's channel and
// turns every notification into a broadcast, reconnecting with backoff
// when the connection drops, until the store closes. After each
// (re)connect it broadcasts once, for the commits it may have missed.
func (s *Store) listenLoop() {
	backoff := minBackoff
	for {
		connected, _ := s.listenOnceConn()
		if s.ctx.Err() != nil {
			return
		}
		if connected {
			backoff = minBackoff
		}
		select {
		case <-time.After(backoff):
		case <-s.ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnceConn runs one listening connection until it fails. connected
// reports whether it got as far as LISTEN. The error is not reported
// anywhere: subscriptions keep polling meanwhile, and their reads report
// an unreachable database if it is one.
func (s *Store) listenOnceConn() (connected bool, err error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(s.ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	s.pidMu.Lock()
	s.pid = conn.PgConn().PID()
	s.pidMu.Unlock()
	s.broadcast()
	for {
		if _, err := conn.WaitForNotification(s.ctx); err != nil {
			return true, err
		}
		s.broadcast()
	}
}

// listenerPID returns the backend process of the listening connection, 0
// before it connected.
func (s *Store) listenerPID() uint32 {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	return s.pid
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
