package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const columns = `position, id, stream, version, type, schema, data,
	actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at`

// ReadStream reads up to limit events of stream from revision from, in
// dir; see eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	if s.closed() {
		return nil, fmt.Errorf("read stream %s: %w", stream, errClosed)
	}
	var q string
	switch dir {
	case eventstore.Forwards:
		if from > math.MaxInt64 {
			return nil, nil
		}
		q = `SELECT ` + columns + ` FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`
	case eventstore.Backwards:
		from = min(from, math.MaxInt64)
		q = `SELECT ` + columns + ` FROM events WHERE stream = ? AND version <= ? ORDER BY version DESC LIMIT ?`
	default:
		return nil, fmt.Errorf("read stream %s: unknown direction %d", stream, dir)
	}
	evs, err := query(ctx, s.reader, limit, q, stream, int64(from), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return evs, nil
}

// ReadAll reads up to limit events after from that pass filter, in
// position order; see eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter, limit int) ([]eventstore.Event, error) {
	if s.closed() {
		return nil, fmt.Errorf("read all from %s: %w", from, errClosed)
	}
	after, err := seq(from)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	cond, args := filterSQL(filter)
	q := `SELECT ` + columns + ` FROM events WHERE position > ?` + cond + ` ORDER BY position LIMIT ?`
	evs, err := query(ctx, s.reader, limit, q, append(append([]any{after}, args...), sqlLimit(limit))...)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	return evs, nil
}

// scan reads like ReadAll, and also returns how far it looked: the
// position of the last event when it read limit events, else the head of
// the log in the same snapshot. A subscription resumes after it, so that a
// filter that skips most of the log does not re-read the skipped part on
// every wake-up. Positions are allocated in commit order, so every event
// up to the head of a snapshot is in the snapshot.
func (s *Store) scan(ctx context.Context, after int64, filter eventstore.Filter, limit int) ([]eventstore.Event, int64, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var head int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM events`).Scan(&head); err != nil {
		return nil, 0, err
	}
	if head <= after {
		return nil, after, nil
	}
	cond, args := filterSQL(filter)
	q := `SELECT ` + columns + ` FROM events WHERE position > ? AND position <= ?` + cond + ` ORDER BY position LIMIT ?`
	evs, err := query(ctx, tx, limit, q, append(append([]any{after, head}, args...), limit)...)
	if err != nil {
		return nil, 0, err
	}
	if len(evs) == limit {
		return evs, int64(evs[len(evs)-1].Position.Commit), nil
	}
	return evs, head, nil
}

// seq maps a position onto the store's sequence number.
func seq(p eventstore.Position) (int64, error) {
	if p.Commit != p.Prepare || p.Commit > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %s is not a position of this store", eventstore.ErrBadPosition, p)
	}
	return int64(p.Commit), nil
}

// filterSQL returns the WHERE condition (starting with AND) and arguments
// of filter. System streams ("$…") never match. A prefix is a range of
// the stream column (BINARY collation: byte order), p <= stream < p',
// where p' is p with its last byte incremented: two comparisons per row
// instead of two function calls, which is most of what a long read's
// filter costs SQLite.
func filterSQL(f eventstore.Filter) (string, []any) {
	cond := ` AND (stream < '$' OR stream >= '%')`
	if len(f.StreamPrefixes) == 0 {
		return cond, nil
	}
	parts := make([]string, len(f.StreamPrefixes))
	args := make([]any, 0, 2*len(f.StreamPrefixes))
	for i, p := range f.StreamPrefixes {
		if end, ok := prefixEnd(p); ok {
			parts[i] = `(stream >= ? AND stream < ?)`
			args = append(args, p, end)
			continue
		}
		parts[i] = `substr(stream, 1, length(?)) = ?`
		args = append(args, p, p)
	}
	return cond + ` AND (` + strings.Join(parts, ` OR `) + `)`, args
}

// prefixEnd returns the least string greater than every string with
// prefix p, when incrementing p's last byte makes one.
func prefixEnd(p string) (string, bool) {
	if p == "" || p[len(p)-1] == 0xff {
		return "", false
	}
	return p[:len(p)-1] + string([]byte{p[len(p)-1] + 1}), true
}

// sqlLimit maps "limit <= 0 means no limit" onto SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// query runs q and returns its events. limit, when positive, is the most
// it can return: the slice is allocated once for that many (up to a
// bound), so that a long read does not copy its events as it grows.
func query(ctx context.Context, db querier, limit int, q string, args ...any) ([]eventstore.Event, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []eventstore.Event
	if limit > 0 {
		evs = make([]eventstore.Event, 0, min(limit, maxPrealloc))
	}
	var (
		pos, recorded int64
		id, data      string
	)
	for rows.Next() {
		// Scanned in place: an Event on the stack would escape through
		// Scan's arguments, one allocation per row.
		evs = append(evs, eventstore.Event{})
		e := &evs[len(evs)-1]
		if err := rows.Scan(&pos, &id, &e.Stream, &e.Version, &e.Type, &e.Schema, &data,
			&e.Actor.ID, &e.Actor.Username, &e.Actor.Role, &e.CorrelationID, &e.CausationID, &recorded); err != nil {
			return nil, err
		}
		if e.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("event at position %d: id %q: %w", pos, id, err)
		}
		e.Position = eventstore.Seq(uint64(pos))
		e.Data = json.RawMessage(data)
		e.RecordedAt = time.Unix(0, recorded).UTC()
	}
	return evs, rows.Err()
}

// maxPrealloc bounds the events query allocates room for before reading.
const maxPrealloc = 8192
