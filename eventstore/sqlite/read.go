package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const columns = `position, id, stream, version, type, schema, data,
	actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at`

// The SQL of the reads. Each is prepared once per reader connection (see
// readStatements): parsing and planning a statement costs SQLite several
// times what the usual read (a stream's tail after a cached version, no
// rows) costs to run.
const (
	sqlForwards  = `SELECT ` + columns + ` FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`
	sqlBackwards = `SELECT ` + columns + ` FROM events WHERE stream = ? AND version <= ? ORDER BY version DESC LIMIT ?`
	sqlHead      = `SELECT COALESCE(MAX(position), 0) FROM events`
)

// maxShapes bounds how many $all queries (one per filter shape: how many
// prefixes, and which of them need the substr form) readStatements keeps
// prepared. The hub's subscribers use a handful; past the bound a query
// is prepared for its one run, as database/sql does for an unprepared one.
const maxShapes = 32

// readStatements are the read pool's prepared statements. A *sql.Stmt of
// the pool is prepared on each connection the first time it runs there,
// and kept there (modernc.org/sqlite keeps the compiled statement) until
// the pool closes it.
type readStatements struct {
	db                        *sql.DB
	forwards, backwards, head *sql.Stmt

	mu     sync.Mutex
	closed bool
	all    map[string]*sql.Stmt // $all queries by their SQL
}

func prepareReads(ctx context.Context, db *sql.DB) (*readStatements, error) {
	rs := &readStatements{db: db, all: make(map[string]*sql.Stmt)}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{{&rs.forwards, sqlForwards}, {&rs.backwards, sqlBackwards}, {&rs.head, sqlHead}} {
		stmt, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", p.q, err), rs.close())
		}
		*p.stmt = stmt
	}
	return rs, nil
}

// allQuery returns the prepared statement of q, a $all query, preparing
// it on first use. Past maxShapes, or once closed, it returns nil and the
// caller runs q unprepared.
func (rs *readStatements) allQuery(ctx context.Context, q string) (*sql.Stmt, error) {
	rs.mu.Lock()
	stmt, ok := rs.all[q]
	full := rs.closed || len(rs.all) >= maxShapes
	rs.mu.Unlock()
	if ok || full {
		return stmt, nil
	}
	stmt, err := rs.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if prev, ok := rs.all[q]; ok || rs.closed || len(rs.all) >= maxShapes {
		// Another read prepared it first, or the store closed meanwhile:
		// run this one once and drop it.
		return prev, stmt.Close()
	}
	rs.all[q] = stmt
	return stmt, nil
}

// close closes every statement; later allQuery calls prepare nothing.
func (rs *readStatements) close() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closed = true
	var errs []error
	for _, s := range []*sql.Stmt{rs.forwards, rs.backwards, rs.head} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	for q, s := range rs.all {
		errs = append(errs, s.Close())
		delete(rs.all, q)
	}
	return errors.Join(errs...)
}

// ReadStream reads up to limit events of stream from revision from, in
// dir; see eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	if s.closed() {
		return nil, fmt.Errorf("read stream %s: %w", stream, errClosed)
	}
	var stmt *sql.Stmt
	switch dir {
	case eventstore.Forwards:
		if from > math.MaxInt64 {
			return nil, nil
		}
		stmt = s.reads.forwards
	case eventstore.Backwards:
		from = min(from, math.MaxInt64)
		stmt = s.reads.backwards
	default:
		return nil, fmt.Errorf("read stream %s: unknown direction %d", stream, dir)
	}
	rows, err := stmt.QueryContext(ctx, stream, int64(from), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	evs, err := collect(rows, limit)
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
	q, args := allSQL(filter, false)
	stmt, err := s.reads.allQuery(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	rows, err := run(ctx, s.reader, stmt, q, append(append([]any{after}, args...), sqlLimit(limit))...)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	evs, err := collect(rows, limit)
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
	q, args := allSQL(filter, true)
	// Prepared before the transaction: preparing takes a connection of
	// the pool, which a transaction waiting for one must not hold.
	stmt, err := s.reads.allQuery(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var head int64
	if err := tx.StmtContext(ctx, s.reads.head).QueryRowContext(ctx).Scan(&head); err != nil {
		return nil, 0, err
	}
	if head <= after {
		return nil, after, nil
	}
	if stmt != nil {
		stmt = tx.StmtContext(ctx, stmt)
	}
	rows, err := run(ctx, tx, stmt, q, append(append([]any{after, head}, args...), limit)...)
	if err != nil {
		return nil, 0, err
	}
	evs, err := collect(rows, limit)
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

// allSQL returns the $all query of filter, and the filter's arguments.
// Its parameters are the position to read after, with upTo the highest
// position to read, then the filter's arguments, then the limit.
func allSQL(filter eventstore.Filter, upTo bool) (string, []any) {
	cond, args := filterSQL(filter)
	if upTo {
		return `SELECT ` + columns + ` FROM events WHERE position > ? AND position <= ?` + cond + ` ORDER BY position LIMIT ?`, args
	}
	return `SELECT ` + columns + ` FROM events WHERE position > ?` + cond + ` ORDER BY position LIMIT ?`, args
}

// filterSQL returns the WHERE condition (starting with AND) and arguments
// of filter. System streams ("$…") never match. A prefix is a range of
// the stream column (BINARY collation: byte order), p <= stream < p',
// where p' is p with its last byte incremented: two comparisons per row
// instead of two function calls, which is most of what a long read's
// filter costs SQLite. The unary + keeps SQLite from planning the read
// over the (stream, version) index: that would read every event of the
// matching streams, from the first, and sort them, where walking the
// positions after from reads only what the page needs.
func filterSQL(f eventstore.Filter) (string, []any) {
	cond := ` AND (+stream < '$' OR +stream >= '%')`
	if len(f.StreamPrefixes) == 0 {
		return cond, nil
	}
	parts := make([]string, len(f.StreamPrefixes))
	args := make([]any, 0, 2*len(f.StreamPrefixes))
	for i, p := range f.StreamPrefixes {
		if end, ok := prefixEnd(p); ok {
			parts[i] = `(+stream >= ? AND +stream < ?)`
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

// run runs q with its prepared statement stmt (bound to the transaction
// if db is one), or unprepared on db when stmt is nil.
func run(ctx context.Context, db querier, stmt *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if stmt != nil {
		return stmt.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, q, args...)
}

// collect reads and closes rows, and returns their events. limit, when
// positive, is the most there can be: the slice is allocated once for
// that many (up to a bound) at the first row, so that a long read does
// not copy its events as it grows and an empty one allocates nothing.
func collect(rows *sql.Rows, limit int) ([]eventstore.Event, error) {
	defer rows.Close()
	var (
		evs           []eventstore.Event
		pos, recorded int64
		id, data      string
		err           error
	)
	for rows.Next() {
		if evs == nil && limit > 0 {
			evs = make([]eventstore.Event, 0, min(limit, maxPrealloc))
		}
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
