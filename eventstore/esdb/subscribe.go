package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	es "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const (
	// buffer is how many received events wait in a subscription's channel.
	buffer = 64
	// Resubscription backoff after a drop.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
	// searchWindow and checkpointMultiplier set how many events the node
	// filters per read and how often (every window × multiplier events
	// considered) it sends a checkpoint, which the adapter ignores.
	searchWindow         = 256
	checkpointMultiplier = 4
)

// Subscribe delivers every event after from that passes filter, first the
// stored ones, then new ones as they commit, resubscribing after the node
// goes away and comes back; see eventstore.Store and the package doc. The
// first subscription is made before Subscribe returns, so an unreachable
// node is an error wrapping eventstore.ErrUnavailable.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	filter.StreamPrefixes = slices.Clone(filter.StreamPrefixes)
	opts := subscribeOptions(filter)
	sub, err := s.subs.Open(ctx, buffer, func(ctx context.Context) (eventstore.Follow, error) {
		st, err := s.open(ctx, from, opts)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, out chan<- eventstore.Event) error {
			return s.follow(ctx, out, st, from, filter, opts)
		}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe from %s: %w", from, err)
	}
	return sub, nil
}

// subscribeOptions filters on the node by stream name: the prefixes, or
// every non-system stream.
func subscribeOptions(f eventstore.Filter) es.SubscribeToAllOptions {
	sf := &es.SubscriptionFilter{Type: es.StreamFilterType, Regex: `^[^$]`}
	if len(f.StreamPrefixes) > 0 && !slices.Contains(f.StreamPrefixes, "") {
		sf = &es.SubscriptionFilter{Type: es.StreamFilterType, Prefixes: f.StreamPrefixes}
	}
	return es.SubscribeToAllOptions{Filter: sf, MaxSearchWindow: searchWindow, CheckpointInterval: checkpointMultiplier}
}

// stream is one subscription call to the node.
type stream struct {
	sub    *es.Subscription
	c      *conn
	cancel context.CancelFunc
}

func (st *stream) close() {
	_ = st.sub.Close()
	st.cancel()
	st.c.release()
}

// open subscribes to $all strictly after after (from the start when it is
// zero). The call runs on its own goroutine, like call's, and keeps its
// connection in use until the stream is closed.
func (s *Store) open(ctx context.Context, after eventstore.Position, opts es.SubscribeToAllOptions) (*stream, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	opts.From = es.Start{}
	if !after.IsZero() {
		opts.From = es.Position{Commit: after.Commit, Prepare: after.Prepare}
	}
	callCtx, cancel := context.WithCancel(ctx)
	type result struct {
		sub *es.Subscription
		err error
	}
	res := make(chan result, 1)
	go func() {
		sub, err := c.client.SubscribeToAll(callCtx, opts)
		res <- result{sub, err}
	}()
	abandon := func() {
		cancel()
		go func() {
			if r := <-res; r.sub != nil {
				_ = r.sub.Close()
			}
			c.release()
		}()
	}
	var r result
	select {
	case r = <-res:
	case <-c.lost:
		abandon()
		return nil, errLost
	case <-ctx.Done():
		abandon()
		return nil, context.Cause(ctx)
	case <-s.done:
		abandon()
		return nil, errClosed
	}
	if r.err != nil {
		cancel()
		c.release()
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case isConnectionError(r.err):
			s.retire(c, r.err)
			return nil, unavailable(r.err)
		}
		return nil, r.err
	}
	return &stream{sub: r.sub, c: c, cancel: cancel}, nil
}

// follow delivers the events of st, and of the subscriptions that replace
// it after a drop, until ctx ends or an error that is not the node going
// away; it returns why it stopped. after is the position of the last
// event received.
func (s *Store) follow(ctx context.Context, out chan<- eventstore.Event, st *stream, after eventstore.Position, filter eventstore.Filter, opts es.SubscribeToAllOptions) error {
	for {
		err := deliver(ctx, out, st.sub, &after, filter)
		st.close()
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !dropped(err) {
			return fmt.Errorf("subscribe after %s: %w", after, err)
		}
		if isConnectionError(err) {
			s.retire(st.c, err)
		}
		s.log.Warn().Err(err).Str("position", after.String()).Msg("subscription dropped; resubscribing")
		if st, err = s.reopen(ctx, after, opts); err != nil {
			return err
		}
		s.log.Info().Str("position", after.String()).Msg("resubscribed")
	}
}

// reopen subscribes again after after, with backoff, for as long as the
// node is unreachable.
func (s *Store) reopen(ctx context.Context, after eventstore.Position, opts es.SubscribeToAllOptions) (*stream, error) {
	backoff := minBackoff
	for {
		if !sleep(ctx, backoff) {
			return nil, context.Cause(ctx)
		}
		st, err := s.open(ctx, after, opts)
		switch {
		case err == nil:
			return st, nil
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case !errors.Is(err, eventstore.ErrUnavailable):
			return nil, fmt.Errorf("resubscribe after %s: %w", after, err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// dropped reports whether a subscription ended because the connection did
// (the node restarted or went away), as opposed to an error answer.
func dropped(err error) bool {
	return isConnectionError(err) || errors.Is(err, io.EOF)
}

// deliver sends the events of sub that pass filter until the subscription
// drops or ctx ends.
func deliver(ctx context.Context, out chan<- eventstore.Event, sub *es.Subscription, after *eventstore.Position, filter eventstore.Filter) error {
	for {
		ev := sub.Recv()
		if d := ev.SubscriptionDropped; d != nil {
			if d.Error == nil {
				return io.EOF
			}
			return d.Error
		}
		if ev.EventAppeared == nil {
			continue // checkpoint, caught up, fell behind
		}
		r := ev.EventAppeared.OriginalEvent()
		if r == nil {
			continue
		}
		p := position(r)
		if p.Compare(*after) <= 0 {
			continue // never again: the node skips these too
		}
		*after = p
		if !filter.Match(r.StreamID) {
			continue
		}
		e, err := toEvent(r)
		if err != nil {
			return err
		}
		if err := eventstore.Send(ctx, out, e); err != nil {
			return err
		}
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
