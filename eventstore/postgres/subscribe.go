package postgres

import (
	"context"
	"fmt"
	"slices"
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
	if s.ctx.Err() != nil {
		return nil, fmt.Errorf("subscribe from %s: %w", from, errClosed)
	}
	filter.StreamPrefixes = slices.Clone(filter.StreamPrefixes)
	sub, err := s.subs.Start(ctx, buffer, s.pager(after, filter).Poll)
	if err != nil {
		return nil, fmt.Errorf("subscribe from %s: %w", from, err)
	}
	if s.listen {
		s.startListener()
	}
	return sub, nil
}

// startListener starts listenLoop, once, unless the store is closed.
func (s *Store) startListener() {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listening || s.ctx.Err() != nil {
		return
	}
	s.listening = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.listenLoop()
	}()
}

// pager reads the events after after that pass filter, a page at a time,
// waking on this Store's appends, on NOTIFY and every poll interval, and
// reading again with backoff while the database is unreachable.
func (s *Store) pager(after int64, filter eventstore.Filter) eventstore.Pager {
	return eventstore.Pager{
		Next: func(ctx context.Context) ([]eventstore.Event, bool, error) {
			evs, scanned, err := s.scan(ctx, after, filter, batch)
			if err != nil {
				if unavailable(err) {
					return nil, false, err
				}
				return nil, false, fmt.Errorf("subscribe after %d: %w", after, err)
			}
			after = scanned
			return evs, len(evs) == batch, nil
		},
		Changed:    s.changed,
		Every:      s.poll,
		Passing:    unavailable,
		MinBackoff: minBackoff,
		MaxBackoff: maxBackoff,
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
