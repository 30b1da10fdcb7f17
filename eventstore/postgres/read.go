package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const selectEvents = `SELECT position, id, stream, version, type, schema, data,
	actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at
	FROM es_events `

// ReadStream reads up to limit events of stream from revision from, in
// dir; see eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	if s.ctx.Err() != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, errClosed)
	}
	var q string
	switch dir {
	case eventstore.Forwards:
		if from > math.MaxInt64 {
			return nil, nil
		}
		q = selectEvents + `WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3`
	case eventstore.Backwards:
		from = min(from, math.MaxInt64)
		q = selectEvents + `WHERE stream = $1 AND version <= $2 ORDER BY version DESC LIMIT $3`
	default:
		return nil, fmt.Errorf("read stream %s: unknown direction %d", stream, dir)
	}
	evs, err := query(ctx, s.pool, q, stream, int64(from), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, s.fail(err))
	}
	return evs, nil
}

// ReadAll reads up to limit events after from that pass filter, in
// position order; see eventstore.Store. Positions are allocated in commit
// order, so a reader never sees a position before every lower one has
// committed: there is nothing to wait for.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter, limit int) ([]eventstore.Event, error) {
	if s.ctx.Err() != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, errClosed)
	}
	after, err := seq(from)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	q := allSQL(filter, false)
	args := []any{after, sqlLimit(limit)}
	if len(filter.StreamPrefixes) > 0 {
		args = append(args, filter.StreamPrefixes)
	}
	evs, err := query(ctx, s.pool, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, s.fail(err))
	}
	return evs, nil
}

// scan reads like ReadAll, and also returns how far it looked: the
// position of the last event when it read limit events, else the head of
// the log in the same snapshot. A subscription resumes after it, so that a
// filter that skips most of the log does not re-read the skipped part on
// every wake-up. The snapshot that sees head h sees every position up to
// h, since positions are allocated in commit order.
func (s *Store) scan(ctx context.Context, after int64, filter eventstore.Filter, limit int) (evs []eventstore.Event, scanned int64, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var head int64
		if err := tx.QueryRow(ctx, `SELECT position FROM es_head`).Scan(&head); err != nil {
			return err
		}
		if head <= after {
			scanned = after
			return nil
		}
		q := allSQL(filter, true)
		args := []any{after, sqlLimit(limit), head}
		if len(filter.StreamPrefixes) > 0 {
			args = append(args, filter.StreamPrefixes)
		}
		var err error
		if evs, err = query(ctx, tx, q, args...); err != nil {
			return err
		}
		scanned = head
		if len(evs) == limit {
			scanned = int64(evs[len(evs)-1].Position.Commit)
		}
		return nil
	})
	return evs, scanned, err
}

// seq maps a position onto the store's sequence number.
func seq(p eventstore.Position) (int64, error) {
	if p.Commit != p.Prepare || p.Commit > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %s is not a position of this store", eventstore.ErrBadPosition, p)
	}
	return int64(p.Commit), nil
}

// allSQL returns the $all query of filter. Its parameters are the
// position to read after, the limit, with upTo the highest position to
// read, then the filter's prefixes (text[]) if it has any.
func allSQL(filter eventstore.Filter, upTo bool) string {
	if upTo {
		return selectEvents + `WHERE position > $1 AND position <= $3` + filterSQL(filter, "$4") + ` ORDER BY position LIMIT $2`
	}
	return selectEvents + `WHERE position > $1` + filterSQL(filter, "$3") + ` ORDER BY position LIMIT $2`
}

// filterSQL returns the WHERE condition (starting with AND) of filter,
// whose prefixes are the text[] parameter param. System streams ("$…")
// never match.
//
// The prefixes are tested with ^@ (starts_with's operator) against ANY of
// the array, which the planner estimates from the stream column's
// statistics, prefix by prefix, and so knows that most of the log passes
// the hub's filter. A starts_with call in an EXISTS over unnest(…) was a
// guess to it (a few rows in a thousand), on which a page from the start
// of the log looked like the whole table, planned as a scan and a sort. Open
// also keeps the pool's sessions from sorting at all (see sessionParams),
// for a table with no statistics yet.
func filterSQL(f eventstore.Filter, param string) string {
	cond := ` AND NOT stream ^@ '$'`
	if len(f.StreamPrefixes) == 0 {
		return cond
	}
	return cond + ` AND stream ^@ ANY (` + param + `::text[])`
}

// sqlLimit maps "limit <= 0 means no limit" onto LIMIT NULL.
func sqlLimit(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	n := int64(limit)
	return &n
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func query(ctx context.Context, db querier, q string, args ...any) ([]eventstore.Event, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []eventstore.Event
	for rows.Next() {
		var (
			e        eventstore.Event
			pos      int64
			id       uuid.UUID
			version  int64
			schema   int32
			data     []byte
			recorded time.Time
		)
		if err := rows.Scan(&pos, &id, &e.Stream, &version, &e.Type, &schema, &data,
			&e.Actor.ID, &e.Actor.Username, &e.Actor.Role, &e.CorrelationID, &e.CausationID, &recorded); err != nil {
			return nil, err
		}
		e.ID = id
		e.Position = eventstore.Seq(uint64(pos))
		e.Version = uint64(version)
		e.Schema = int(schema)
		e.Data = data
		e.RecordedAt = recorded.UTC()
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
