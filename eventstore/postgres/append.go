package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// Append appends events to stream if its revision matches expected; see
// eventstore.Store. A *eventstore.VersionError is returned unwrapped (its
// message already names the append and the stream).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	rows, err := checkAppend(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if s.ctx.Err() != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	}
	res, wrote, err := s.append(ctx, stream, expected, events, rows)
	if err != nil {
		var ve *eventstore.VersionError
		if errors.As(err, &ve) {
			return eventstore.AppendResult{}, ve
		}
		if errors.Is(err, eventstore.ErrDuplicateEvent) {
			return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
		}
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, s.fail(err))
	}
	if wrote {
		s.broadcast() // local subscriptions need not wait for the NOTIFY
	}
	return res, nil
}

// append runs the write transaction; wrote is false for an idempotent
// retry. The first statement to touch a row is the UPDATE of es_head,
// which waits for every earlier append to commit: everything after it sees
// the log as of the last commit (READ COMMITTED takes a snapshot per
// statement), and the positions it returns are this append's alone.
func (s *Store) append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.EventData, rows *columns) (res eventstore.AppendResult, wrote bool, err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return res, false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.Background())
		}
	}()

	var (
		last  int64
		found = map[uuid.UUID]stored{}
		cur   *int64
	)
	b := &pgx.Batch{}
	// Acknowledged means durable, whatever the server's default.
	b.Queue(`SET LOCAL synchronous_commit = on`)
	b.Queue(`UPDATE es_head SET position = position + $1 RETURNING position`, int64(len(events))).
		QueryRow(func(r pgx.Row) error { return r.Scan(&last) })
	b.Queue(`SELECT id, stream, version, position FROM es_events WHERE id = ANY($1::uuid[])`, rows.id).
		Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var id uuid.UUID
				var st stored
				if err := rs.Scan(&id, &st.stream, &st.version, &st.position); err != nil {
					return err
				}
				found[id] = st
			}
			return rs.Err()
		})
	b.Queue(`SELECT max(version) FROM es_events WHERE stream = $1`, stream).
		QueryRow(func(r pgx.Row) error { return r.Scan(&cur) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return res, false, err
	}

	if len(found) > 0 {
		res, err := retried(stream, expected, events, found)
		_ = tx.Rollback(context.Background())
		return res, false, err
	}
	exists := cur != nil
	var current uint64
	if exists {
		current = uint64(*cur)
	}
	if !expected.Check(current, exists) {
		return res, false, &eventstore.VersionError{Stream: stream, Expected: expected, Actual: current, Exists: exists}
	}
	next := int64(0)
	if exists {
		next = *cur + 1
	}
	first := last - int64(len(events)) + 1
	for i := range events {
		rows.position[i] = first + int64(i)
		rows.version[i] = next + int64(i)
	}
	recordedAt := s.now().UTC().Truncate(time.Microsecond)

	// RecordedAt never goes back in position order, whatever the clocks of
	// the instances appending: the append holds es_head, so the newest row
	// is the one before its positions, and it stamps no earlier than that.
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO es_events (position, id, stream, version, type, schema, data,
			actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at)
		SELECT u.position, u.id, $3, u.version, u.type, u.schema, u.data::json,
			u.actor_id, u.actor_username, u.actor_role, u.correlation_id, u.causation_id,
			GREATEST($13::timestamptz, (SELECT recorded_at FROM es_events ORDER BY position DESC LIMIT 1))
		FROM unnest($1::bigint[], $2::uuid[], $4::bigint[], $5::text[], $6::int[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
			AS u(position, id, version, type, schema, data,
				actor_id, actor_username, actor_role, correlation_id, causation_id)`,
		rows.position, rows.id, stream, rows.version, rows.typ, rows.schema, rows.data,
		rows.actorID, rows.actorUsername, rows.actorRole, rows.correlationID, rows.causationID, recordedAt)
	// Delivered to listeners when (and only if) the transaction commits.
	b.Queue(`SELECT pg_notify($1, $2)`, s.channel, fmt.Sprint(last))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return res, false, err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx); err != nil {
			return res, false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, false, err
	}
	return eventstore.AppendResult{
		NextExpected: uint64(next) + uint64(len(events)) - 1,
		Position:     eventstore.Seq(uint64(last)),
	}, true, nil
}

// columns holds an append's rows column by column, for unnest.
type columns struct {
	position, version                 []int64
	id                                []string
	typ, data                         []string
	schema                            []int32
	actorID, actorUsername, actorRole []string
	correlationID, causationID        []string
}

// stored is where an already appended event sits.
type stored struct {
	stream   string
	version  uint64
	position uint64
}

// retried decides an append some of whose IDs are already stored: an exact
// retry (every event stored, in this stream, at consecutive revisions in
// this order, where expected would have put them) returns the original
// result; anything else is eventstore.ErrDuplicateEvent.
func retried(stream string, expected eventstore.Expected, events []eventstore.EventData, found map[uuid.UUID]stored) (eventstore.AppendResult, error) {
	first, ok := found[events[0].ID]
	if len(found) != len(events) || !ok {
		return eventstore.AppendResult{}, fmt.Errorf("%w: %d of %d events already stored", eventstore.ErrDuplicateEvent, len(found), len(events))
	}
	for i, e := range events {
		st := found[e.ID]
		if st.stream != stream || st.version != first.version+uint64(i) {
			return eventstore.AppendResult{}, fmt.Errorf("%w: %s is stored as %s@%d", eventstore.ErrDuplicateEvent, e.ID, st.stream, st.version)
		}
	}
	if !expected.Check(first.version-1, first.version > 0) {
		return eventstore.AppendResult{}, fmt.Errorf("%w: stored at revision %d, not where %s puts them", eventstore.ErrDuplicateEvent, first.version, expected)
	}
	last := found[events[len(events)-1].ID]
	return eventstore.AppendResult{NextExpected: last.version, Position: eventstore.Seq(last.position)}, nil
}

// checkAppend validates an append before it reaches the database and lays
// it out as columns (empty data is JSON null).
func checkAppend(stream string, events []eventstore.EventData) (*columns, error) {
	switch {
	case stream == "":
		return nil, errors.New("empty stream name")
	case strings.HasPrefix(stream, "$"):
		return nil, errors.New("stream names starting with $ are reserved")
	case len(events) == 0:
		return nil, errors.New("no events")
	}
	n := len(events)
	c := &columns{
		position: make([]int64, n), version: make([]int64, n), id: make([]string, n),
		typ: make([]string, n), data: make([]string, n), schema: make([]int32, n),
		actorID: make([]string, n), actorUsername: make([]string, n), actorRole: make([]string, n),
		correlationID: make([]string, n), causationID: make([]string, n),
	}
	seen := make(map[uuid.UUID]struct{}, n)
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
		if e.Schema < -1<<31 || e.Schema > 1<<31-1 {
			return nil, fmt.Errorf("event %s: schema %d out of range", e.ID, e.Schema)
		}
		switch {
		case len(e.Data) == 0:
			c.data[i] = "null"
		case !json.Valid(e.Data):
			return nil, fmt.Errorf("event %s: data is not valid JSON", e.ID)
		default:
			c.data[i] = string(e.Data)
		}
		c.id[i] = e.ID.String()
		c.typ[i] = e.Type
		c.schema[i] = int32(e.Schema)
		c.actorID[i], c.actorUsername[i], c.actorRole[i] = e.Actor.ID, e.Actor.Username, e.Actor.Role
		c.correlationID[i], c.causationID[i] = e.CorrelationID, e.CausationID
	}
	return c, nil
}
