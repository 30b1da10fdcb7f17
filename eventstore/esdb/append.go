package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	es "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// metadata is the custom metadata of every event the hub writes: the
// envelope fields EventStoreDB has no place for. Correlation and causation
// use the keys the node's own projections read.
type metadata struct {
	Actor         eventstore.Actor `json:"actor"`
	Schema        int              `json:"schema"`
	CorrelationID string           `json:"$correlationId,omitempty"`
	CausationID   string           `json:"$causationId,omitempty"`
}

// Append appends events to stream if its revision matches expected; see
// eventstore.Store and, for what the node does with retries and
// duplicates, the package doc. A *eventstore.VersionError is returned
// unwrapped (its message already names the append and the stream).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	proposed, err := proposals(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	opts := es.AppendToStreamOptions{ExpectedRevision: revision(expected)}
	wr, err := call(ctx, s, func(ctx context.Context, c *es.Client) (*es.WriteResult, error) {
		return c.AppendToStream(ctx, stream, opts, proposed...)
	})
	if err != nil {
		var e *es.Error
		switch {
		case errors.As(err, &e) && e.Code() == es.ErrorCodeWrongExpectedVersion:
			return eventstore.AppendResult{}, s.refused(ctx, stream, expected, e)
		case errors.Is(err, io.EOF) && size(proposed) > maxAppendSize:
			// The node refuses an append over its maximum size in the
			// middle of the stream of events, and the client reports the
			// broken stream (io.EOF), not the refusal: not an outage.
			return eventstore.AppendResult{}, fmt.Errorf("append %s: %d bytes, over the node's default maximum append size (%d); the node ended the call (%v)",
				stream, size(proposed), maxAppendSize, withoutUnavailable(err))
		}
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if wr.NextExpectedVersion < uint64(len(events)-1) {
		// The node took all the IDs for a retry, but they are stored in
		// another order: the last one sits too early in the stream.
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w: the events are stored in another order (the last at revision %d)",
			stream, eventstore.ErrDuplicateEvent, wr.NextExpectedVersion)
	}
	return eventstore.AppendResult{
		Revision: wr.NextExpectedVersion,
		Position: eventstore.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition},
	}, nil
}

// maxAppendSize is the node's default maximum size of one append
// (MaxAppendSize, 1 MiB), counted as the node counts it: data, metadata
// and type of each event.
const maxAppendSize = 1 << 20

// size is an append's size as maxAppendSize counts it.
func size(events []es.EventData) int {
	n := 0
	for _, e := range events {
		n += len(e.Data) + len(e.Metadata) + len(e.EventType)
	}
	return n
}

// withoutUnavailable undoes unavailable's wrapping, for a message.
func withoutUnavailable(err error) error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := u.Unwrap(); len(errs) == 2 && errs[0] == eventstore.ErrUnavailable {
			return errs[1]
		}
	}
	return err
}

// revision maps an expected revision onto the client's.
func revision(e eventstore.Expected) es.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return es.NoStream{}
	case e.IsStreamExists():
		return es.StreamExists{}
	}
	if n, ok := e.Revision(); ok {
		// The node reads revisions as signed: 2^64-1 would mean "no
		// stream". No stream reaches 2^63 events, so the cap cannot turn a
		// mismatch into a match.
		return es.StreamRevision{Value: min(n, math.MaxInt64)}
	}
	return es.Any{}
}

// refused translates the node's wrong-expected-version answer.
func (s *Store) refused(ctx context.Context, stream string, expected eventstore.Expected, e *es.Error) error {
	actual, exists, ok := actualRevision(e)
	if !ok {
		var err error
		if actual, exists, err = s.lastRevision(ctx, stream); err != nil {
			return fmt.Errorf("append %s: %w (%v), and reading its revision: %w", stream, eventstore.ErrWrongVersion, e, err)
		}
	}
	// With any, and with stream_exists on a stream that exists, the node
	// refuses only a partial overlap with events already appended
	// ("corrupted idempotency", answered as a wrong expected version).
	if expected.IsAny() || (expected.IsStreamExists() && exists) {
		return fmt.Errorf("append %s: %w: some of the events were already appended, not all of them, or not in this order",
			stream, eventstore.ErrDuplicateEvent)
	}
	return &eventstore.VersionError{Stream: stream, Expected: expected, Actual: actual, Exists: exists}
}

// currentRe finds the current revision in the client's error text:
// "wrong expected version: expecting '<expected>' but got '<current>'",
// where current is a revision or no_stream.
var currentRe = regexp.MustCompile(`but got '([^']*)'`)

// actualRevision reads the stream's current revision out of the client's
// wrong-expected-version error, the only place the client keeps it.
func actualRevision(e *es.Error) (actual uint64, exists, ok bool) {
	if e.Err() == nil {
		return 0, false, false
	}
	return parseCurrent(e.Err().Error())
}

// parseCurrent reads the current revision out of the client's text.
func parseCurrent(text string) (actual uint64, exists, ok bool) {
	m := currentRe.FindStringSubmatch(text)
	if m == nil {
		return 0, false, false
	}
	if m[1] == "no_stream" {
		return 0, false, true
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, false, false
	}
	return n, true, true
}

// lastRevision reads the stream's last revision; exists is false for a
// stream without events.
func (s *Store) lastRevision(ctx context.Context, stream string) (uint64, bool, error) {
	type last struct {
		revision uint64
		exists   bool
	}
	l, err := call(ctx, s, func(ctx context.Context, c *es.Client) (last, error) {
		rs, err := c.ReadStream(ctx, stream, es.ReadStreamOptions{Direction: es.Backwards, From: es.End{}}, 1)
		if err != nil {
			return last{}, err
		}
		defer rs.Close()
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF), streamNotFound(err):
			return last{}, nil
		case err != nil:
			return last{}, err
		}
		return last{revision: ev.OriginalEvent().EventNumber, exists: true}, nil
	})
	return l.revision, l.exists, err
}

// proposals validates an append before it goes to the node and builds the
// client's events.
func proposals(stream string, events []eventstore.EventData) ([]es.EventData, error) {
	switch {
	case stream == "":
		return nil, errors.New("empty stream name")
	case strings.HasPrefix(stream, "$"):
		return nil, errors.New("stream names starting with $ are reserved")
	case len(events) == 0:
		return nil, errors.New("no events")
	}
	out := make([]es.EventData, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			return nil, fmt.Errorf("event %d has no id", i)
		}
		if _, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("%w: %s twice in one append", eventstore.ErrDuplicateEvent, e.ID)
		}
		seen[e.ID] = struct{}{}
		if e.Type == "" {
			return nil, fmt.Errorf("event %s has no type", e.ID)
		}
		data := []byte(e.Data)
		switch {
		case len(data) == 0:
			data = []byte("null")
		case !json.Valid(data):
			return nil, fmt.Errorf("event %s: data is not valid JSON", e.ID)
		}
		meta, err := json.Marshal(metadata{Actor: e.Actor, Schema: e.Schema, CorrelationID: e.CorrelationID, CausationID: e.CausationID})
		if err != nil {
			return nil, fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
		out[i] = es.EventData{
			EventID:     e.ID,
			EventType:   e.Type,
			ContentType: es.ContentTypeJson,
			Data:        data,
			Metadata:    meta,
		}
	}
	return out, nil
}
