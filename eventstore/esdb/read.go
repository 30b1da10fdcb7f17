package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	es "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// page is how many events of $all ReadAll asks the node for at a time.
const page = 512

// ReadStream reads up to limit events of stream from revision from, in
// dir; see eventstore.Store. A missing stream reads as no events.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	opts := es.ReadStreamOptions{}
	switch dir {
	case eventstore.Forwards:
		if from > math.MaxInt64 {
			return nil, nil
		}
		opts.Direction, opts.From = es.Forwards, es.Revision(from)
	case eventstore.Backwards:
		opts.Direction, opts.From = es.Backwards, es.End{}
		if from < math.MaxInt64 {
			opts.From = es.Revision(from)
		}
	default:
		return nil, fmt.Errorf("read stream %s: unknown direction %d", stream, dir)
	}
	count := uint64(math.MaxInt64)
	if limit > 0 {
		count = uint64(limit)
	}
	recs, err := call(ctx, s, func(ctx context.Context, c *es.Client) ([]*es.RecordedEvent, error) {
		rs, err := c.ReadStream(ctx, stream, opts, count)
		if err != nil {
			return nil, err
		}
		recs, err := collect(rs)
		if streamNotFound(err) {
			return nil, nil
		}
		return recs, err
	})
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	evs := make([]eventstore.Event, 0, len(recs))
	for _, r := range recs {
		e, err := toEvent(r)
		if err != nil {
			return nil, fmt.Errorf("read stream %s: %w", stream, err)
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// ReadAll reads up to limit events after from that pass filter, in
// position order; see eventstore.Store. The client cannot filter $all
// reads on the node, so ReadAll pages through $all and filters here.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter, limit int) ([]eventstore.Event, error) {
	filter.StreamPrefixes = slices.Clone(filter.StreamPrefixes)
	var evs []eventstore.Event
	after := from
	for {
		opts := es.ReadAllOptions{Direction: es.Forwards, From: es.Start{}}
		if !after.IsZero() {
			opts.From = es.Position{Commit: after.Commit, Prepare: after.Prepare}
		}
		recs, err := call(ctx, s, func(ctx context.Context, c *es.Client) ([]*es.RecordedEvent, error) {
			rs, err := c.ReadAll(ctx, opts, page)
			if err != nil {
				return nil, err
			}
			return collect(rs)
		})
		if err != nil {
			return nil, fmt.Errorf("read all from %s: %w", from, err)
		}
		before := after
		for _, r := range recs {
			p := position(r)
			if p.Compare(after) <= 0 {
				continue // the node reads from a position inclusively
			}
			after = p
			if !filter.Match(r.StreamID) {
				continue
			}
			e, err := toEvent(r)
			if err != nil {
				return nil, fmt.Errorf("read all from %s: %w", from, err)
			}
			evs = append(evs, e)
			if limit > 0 && len(evs) == limit {
				return evs, nil
			}
		}
		if len(recs) < page {
			return evs, nil
		}
		if after == before {
			return nil, fmt.Errorf("read all from %s: the node answered a full page at or before %s", from, after)
		}
	}
}

// collect reads a read's events to the end and closes it.
func collect(rs *es.ReadStream) ([]*es.RecordedEvent, error) {
	defer rs.Close()
	var recs []*es.RecordedEvent
	for {
		r, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		if e := r.OriginalEvent(); e != nil {
			recs = append(recs, e)
		}
	}
}

// streamNotFound reports whether err is the node's stream-not-found answer
// to a read.
func streamNotFound(err error) bool {
	var e *es.Error
	return errors.As(err, &e) && e.Code() == es.ErrorCodeResourceNotFound
}

func position(r *es.RecordedEvent) eventstore.Position {
	return eventstore.Position{Commit: r.Position.Commit, Prepare: r.Position.Prepare}
}

// toEvent maps a recorded event onto the envelope.
func toEvent(r *es.RecordedEvent) (eventstore.Event, error) {
	e := eventstore.Event{
		ID:         r.EventID,
		Stream:     r.StreamID,
		Type:       r.EventType,
		Version:    r.EventNumber,
		Position:   position(r),
		RecordedAt: r.CreatedDate.UTC(),
		Data:       json.RawMessage(r.Data),
	}
	switch {
	case len(r.Data) == 0:
		e.Data = json.RawMessage("null")
	case !json.Valid(r.Data):
		return eventstore.Event{}, fmt.Errorf("event %s (%s@%d): data is not JSON", r.EventID, r.StreamID, r.EventNumber)
	}
	if len(r.UserMetadata) > 0 {
		var m metadata
		if err := json.Unmarshal(r.UserMetadata, &m); err != nil {
			return eventstore.Event{}, fmt.Errorf("event %s (%s@%d): metadata: %w", r.EventID, r.StreamID, r.EventNumber, err)
		}
		e.Actor, e.Schema, e.CorrelationID, e.CausationID = m.Actor, m.Schema, m.CorrelationID, m.CausationID
	}
	return e, nil
}
