package sqlite

import (
	"context"
	"fmt"
	"slices"

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
	if s.closed() {
		return nil, fmt.Errorf("subscribe from %s: %w", from, errClosed)
	}
	filter.StreamPrefixes = slices.Clone(filter.StreamPrefixes)
	sub, err := s.subs.Start(ctx, buffer, s.pager(after, filter).Poll)
	if err != nil {
		return nil, fmt.Errorf("subscribe from %s: %w", from, err)
	}
	return sub, nil
}

// pager reads the events after after that pass filter, a page at a time,
// waking on this Store's commits and, with WithPollInterval, every
// interval.
func (s *Store) pager(after int64, filter eventstore.Filter) eventstore.Pager {
	return eventstore.Pager{
		Next: func(ctx context.Context) ([]eventstore.Event, bool, error) {
			evs, scanned, err := s.scan(ctx, after, filter, batch)
			if err != nil {
				return nil, false, fmt.Errorf("subscribe after %d: %w", after, err)
			}
			after = scanned
			return evs, len(evs) == batch, nil
		},
		Changed: s.changed,
		Every:   s.poll,
	}
}
