package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store is the port every event store adapter implements (sqlite, postgres,
// esdb). The contract, proven for every adapter by storetest.Run:
//
//   - Append writes all events to one stream atomically or none of them. The
//     expected revision is checked against the stream's current revision
//     under the same lock/transaction as the write; a mismatch returns a
//     *VersionError (errors.Is(err, ErrWrongVersion)) carrying the actual
//     revision, and nothing is written.
//   - Re-appending events whose IDs were already appended to the same stream,
//     at the same revisions, in the same order, is an idempotent success that
//     returns the original result and writes nothing (EventStoreDB semantics:
//     a client that retries after a lost acknowledgement never duplicates).
//   - Acknowledged means durable: once Append returns nil the events survive a
//     kill -9 of the process.
//   - Stream revisions start at 0 and have no gaps. Global positions are
//     totally ordered, strictly increasing in commit order as seen by
//     readers, never zero, and never reused.
//   - ReadAll and Subscribe deliver every event exactly once, in position
//     order, including events that committed late with a lower position
//     (adapters must make that impossible or wait for it).
//   - A missing stream reads as an empty slice and no error.
type Store interface {
	// Append appends events to stream if its revision matches expected.
	Append(ctx context.Context, stream string, expected Expected, events ...EventData) (AppendResult, error)
	// ReadStream reads up to limit events of stream, starting at revision
	// from, in the given direction. limit <= 0 means no limit. Reading
	// backwards from Last starts at the newest event.
	ReadStream(ctx context.Context, stream string, from uint64, dir Direction, limit int) ([]Event, error)
	// ReadAll reads up to limit events with a position strictly after from,
	// forwards, that pass filter. The zero Position reads from the start.
	ReadAll(ctx context.Context, from Position, filter Filter, limit int) ([]Event, error)
	// Subscribe delivers, on the subscription's channel, every event after
	// from that passes filter: first the stored ones (catch-up), then new
	// ones as they commit (live), with no gap and no duplicate at the seam.
	// The subscription ends when ctx is cancelled, Close is called or the
	// store fails; its channel is then closed and Err says why.
	Subscribe(ctx context.Context, from Position, filter Filter) (Subscription, error)
	// Ping reports whether the store is reachable, for readiness checks.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Subscription is a running catch-up subscription to $all.
type Subscription interface {
	// Events is closed when the subscription ends.
	Events() <-chan Event
	// Err returns why the subscription ended: nil while it runs,
	// context.Canceled after Close or cancellation, or the store's error.
	Err() error
	// Close ends the subscription and waits for its goroutines.
	Close() error
}

// Last, as the from revision of a backwards ReadStream, means "the newest".
const Last = ^uint64(0)

// Direction of a stream read.
type Direction int

// Read directions.
const (
	Forwards Direction = iota
	Backwards
)

// Filter selects events of $all by stream prefix. An empty filter selects
// every stream the hub wrote; adapters never return system streams (names
// starting with "$").
type Filter struct {
	// StreamPrefixes, when not empty, keeps only events of streams whose
	// name starts with one of them.
	StreamPrefixes []string
}

// Match reports whether stream passes the filter.
func (f Filter) Match(stream string) bool {
	if strings.HasPrefix(stream, "$") {
		return false
	}
	if len(f.StreamPrefixes) == 0 {
		return true
	}
	for _, p := range f.StreamPrefixes {
		if strings.HasPrefix(stream, p) {
			return true
		}
	}
	return false
}

// Actor is who caused an event: a person ({id, username, role}) or a system
// actor such as "ingest:imap" (ID and Username both set to it, Role "system").
type Actor struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
}

// EventData is an event proposed for appending.
type EventData struct {
	// ID identifies the event; re-appending the same ID is idempotent.
	// Callers use UUID v7 (NewEventID).
	ID            uuid.UUID
	Type          string
	Schema        int
	Data          json.RawMessage
	Actor         Actor
	CorrelationID string
	CausationID   string
}

// Event is a recorded event: the envelope and its JSON data.
type Event struct {
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	Version       uint64          `json:"version"`
	Position      Position        `json:"position"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Actor         Actor           `json:"actor"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	Schema        int             `json:"schema"`
	Data          json.RawMessage `json:"data"`
}

// AppendResult describes a successful append.
type AppendResult struct {
	// Revision is the stream's revision after the append: the revision of
	// its last event (EventStoreDB calls it the next expected version).
	Revision uint64
	// Position is the global position of the last appended event.
	Position Position
}

// NewEventID returns a new time-ordered event ID (UUID v7).
func NewEventID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source fails.
		return uuid.New()
	}
	return id
}

// Position is a global position in the store, totally ordered. SQLite and
// Postgres use Commit == Prepare (a sequence number); EventStoreDB uses its
// commit/prepare pair. Callers treat it as opaque and use String/Parse to
// carry it as a resume token.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Seq returns a position for stores with a single sequence number.
func Seq(n uint64) Position { return Position{Commit: n, Prepare: n} }

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p.Commit == 0 && p.Prepare == 0 }

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// String returns the resume token: "n" when Commit == Prepare, else
// "commit-prepare".
func (p Position) String() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "-" + strconv.FormatUint(p.Prepare, 10)
}

// MarshalText encodes the position as its resume token.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a resume token.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ErrBadPosition is returned for a malformed resume token.
var ErrBadPosition = errors.New("bad position")

// ParsePosition parses a token made by Position.String. The empty string is
// the zero position.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	c, p, two := strings.Cut(s, "-")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	if !two {
		return Seq(commit), nil
	}
	prepare, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// Expected is the revision a writer expects a stream to be at.
type Expected struct {
	kind     expectedKind
	revision uint64
}

type expectedKind uint8

const (
	kindAny expectedKind = iota
	kindNoStream
	kindStreamExists
	kindExact
)

// Expected revisions.
var (
	// Any appends whatever the stream's state.
	Any = Expected{kind: kindAny}
	// NoStream appends only if the stream has no events.
	NoStream = Expected{kind: kindNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = Expected{kind: kindStreamExists}
)

// Exact appends only if the stream's last event has revision n.
func Exact(n uint64) Expected { return Expected{kind: kindExact, revision: n} }

// IsAny, IsNoStream, IsStreamExists and Revision let adapters map Expected
// onto their own representation.
func (e Expected) IsAny() bool          { return e.kind == kindAny }
func (e Expected) IsNoStream() bool     { return e.kind == kindNoStream }
func (e Expected) IsStreamExists() bool { return e.kind == kindStreamExists }

// Revision returns n and true for Exact(n).
func (e Expected) Revision() (uint64, bool) { return e.revision, e.kind == kindExact }

// Check reports whether a stream whose last revision is current (exists is
// false for a stream with no events) satisfies e.
func (e Expected) Check(current uint64, exists bool) bool {
	switch e.kind {
	case kindNoStream:
		return !exists
	case kindStreamExists:
		return exists
	case kindExact:
		return exists && current == e.revision
	}
	return true
}

func (e Expected) String() string {
	switch e.kind {
	case kindNoStream:
		return "no_stream"
	case kindStreamExists:
		return "stream_exists"
	case kindExact:
		return strconv.FormatUint(e.revision, 10)
	}
	return "any"
}

// ErrWrongVersion matches every *VersionError.
var ErrWrongVersion = errors.New("wrong expected version")

// ErrUnavailable wraps errors that mean the store cannot be reached now; the
// web layer answers 503 for them.
var ErrUnavailable = errors.New("event store unavailable")

// ErrDuplicateEvent is returned when some, but not all, of the appended
// event IDs already exist, or they exist in another stream or order: the
// request is neither new nor an exact retry.
var ErrDuplicateEvent = errors.New("duplicate event id")

// VersionError reports an expected-revision mismatch.
type VersionError struct {
	Stream   string
	Expected Expected
	// Actual is the stream's last revision; meaningful when Exists.
	Actual uint64
	// Exists is false when the stream has no events.
	Exists bool
}

func (e *VersionError) Error() string {
	actual := "no_stream"
	if e.Exists {
		actual = strconv.FormatUint(e.Actual, 10)
	}
	return fmt.Sprintf("append %s: %s: expected %s, actual %s", e.Stream, ErrWrongVersion, e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrWrongVersion }
