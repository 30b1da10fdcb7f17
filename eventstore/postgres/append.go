package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const (
	// queued is how many appends may wait for the writer before Append
	// blocks (honouring its context).
	queued = 1024
	// maxBatch and maxBatchEvents bound one group commit: the appends it
	// takes from the queue, and the events they carry (a batch always
	// takes at least one append, however large).
	maxBatch       = 256
	maxBatchEvents = 4096
)

// request is one Append on its way to the writer, with its rows.
type request = eventstore.Request[*columns]

// Append appends events to stream if its revision matches expected; see
// eventstore.Store. A *eventstore.VersionError is returned unwrapped (its
// message already names the append and the stream).
//
// The append is queued to the store's writer, which commits every append
// waiting at that moment in one transaction (one commit, one WAL flush),
// checking each one's expected revision in turn against the stream as the
// appends before it in the batch left it, so each caller gets its own
// result or its own error. Append returns once that transaction has
// committed. A context cancelled while the append is still queued
// withdraws it (nothing is written); once the writer has taken it, Append
// waits for the transaction and reports its outcome (the transaction is
// cancelled only if every caller in it gave up).
//
// Each process has its own writer; the database still serialises the
// writers of every process on one schema (the es_head lock), so the
// checks are as correct across instances as within one.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	rows, err := checkAppend(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if s.ctx.Err() != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	}
	r := eventstore.NewRequest(stream, expected, events, rows)
	res, err := s.batches.Append(ctx, r, errClosed)
	var ve *eventstore.VersionError
	switch {
	case err == nil:
		return res, nil
	case !r.Taken(): // withdrawn, or never queued
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	case errors.As(err, &ve):
		return eventstore.AppendResult{}, ve
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, s.fail(err))
}

// write is the writer goroutine: it hands the appends waiting in the
// queue to commit, a batch at a time, and stops when the store closes
// (after the batch in flight). A batch's context is cancelled only when
// every caller in it gave up.
func (s *Store) write() {
	s.batches.Run(s.ctx.Done(), errClosed, func(ctx context.Context, batch []*request) {
		if s.commit(ctx, batch) {
			s.broadcast() // local subscriptions need not wait for the NOTIFY
		}
	})
}

// commit writes batch in one transaction and answers every request in it;
// it reports whether anything was written. Version mismatches, retries and
// duplicates are decided before anything is inserted, so they never spoil
// the transaction. Should the transaction fail anyway (a statement of one
// append failing, say), each append of the batch is committed again on
// its own, so that it gets its own answer and the others are not lost;
// a failure that is nobody's in particular (the database unreachable, the
// batch abandoned by all its callers) is every append's answer.
func (s *Store) commit(ctx context.Context, batch []*request) bool {
	outcomes, err := s.commitTx(ctx, batch)
	if err != nil {
		if len(batch) > 1 && !unavailable(err) && ctx.Err() == nil {
			wrote := false
			for _, r := range batch {
				wrote = s.commit(ctx, []*request{r}) || wrote
			}
			return wrote
		}
		eventstore.FailAll(batch, err)
		return false
	}
	return eventstore.AnswerAll(batch, outcomes)
}

// commitTx runs batch's appends in one transaction, in order, and commits
// it if any of them wrote.
//
// Its first statement to touch a row locks es_head (SELECT … FOR UPDATE),
// and waits there for every earlier append of every instance to commit:
// everything after it sees the log as of the last commit (READ COMMITTED
// takes a snapshot per statement), and the positions after the head are
// this batch's alone until it commits. Each append is checked against the
// stream, and the IDs already stored, as the appends before it in the
// batch left them, and the accepted ones are inserted with one statement.
func (s *Store) commitTx(ctx context.Context, batch []*request) (outcomes []eventstore.Outcome, err error) {
	var (
		ids     []string
		streams []string
		seen    = map[string]bool{}
	)
	for _, r := range batch {
		ids = append(ids, r.Payload.id...)
		if !seen[r.Stream] {
			seen[r.Stream] = true
			streams = append(streams, r.Stream)
		}
	}

	// The transaction is opened and closed by statements in the pipelined
	// batches (BEGIN in the first, COMMIT in the last), not by pgx.Tx,
	// which would spend a round trip on each.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	// A connection left inside a transaction (a rollback that failed) is
	// destroyed by Release rather than pooled.
	defer conn.Release()
	inTx := false
	defer func() {
		if inTx {
			_, _ = conn.Exec(context.Background(), `ROLLBACK`)
		}
	}()

	var head int64
	found := map[uuid.UUID]eventstore.Stored{}
	current := make(map[string]*int64, len(streams)) // nil: no such stream
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	// Acknowledged means durable, whatever the server's default.
	b.Queue(`SET LOCAL synchronous_commit = on`)
	b.Queue(`SELECT position FROM es_head FOR UPDATE`).
		QueryRow(func(r pgx.Row) error { return r.Scan(&head) })
	b.Queue(`SELECT id, stream, version, position FROM es_events WHERE id = ANY($1::uuid[])`, ids).
		Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var id uuid.UUID
				var st eventstore.Stored
				if err := rs.Scan(&id, &st.Stream, &st.Version, &st.Position); err != nil {
					return err
				}
				found[id] = st
			}
			return rs.Err()
		})
	// One seek of the (stream, version) index per stream.
	b.Queue(`SELECT u.stream, (SELECT max(version) FROM es_events WHERE stream = u.stream)
		FROM unnest($1::text[]) AS u(stream)`, streams).
		Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var stream string
				var cur *int64
				if err := rs.Scan(&stream, &cur); err != nil {
					return err
				}
				current[stream] = cur
			}
			return rs.Err()
		})
	inTx = true // from here on, whatever the batch's fate
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}

	outcomes = make([]eventstore.Outcome, len(batch))
	all := &columns{}
	last := head
	for i, r := range batch {
		o := s.decide(r, found, current, &last)
		outcomes[i] = o
		if o.Wrote {
			all.add(r.Stream, r.Payload)
		}
	}
	if last == head { // nothing to write: only retries, mismatches, duplicates
		inTx = false
		if _, err := conn.Exec(ctx, `ROLLBACK`); err != nil {
			return nil, err
		}
		return outcomes, nil
	}

	// RecordedAt never goes back in position order, whatever the clocks of
	// the instances appending: the batch holds es_head, so the newest row
	// is the one before its positions, and it stamps no earlier than that
	// (the subquery is evaluated once, in the statement's snapshot, so the
	// whole batch shares one stamp).
	recordedAt := s.now().UTC().Truncate(time.Microsecond)
	b = &pgx.Batch{}
	b.Queue(`UPDATE es_head SET position = $1`, last)
	b.Queue(`INSERT INTO es_events (position, id, stream, version, type, schema, data,
			actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at)
		SELECT u.position, u.id, u.stream, u.version, u.type, u.schema, u.data::json,
			u.actor_id, u.actor_username, u.actor_role, u.correlation_id, u.causation_id,
			GREATEST($13::timestamptz, (SELECT recorded_at FROM es_events ORDER BY position DESC LIMIT 1))
		FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
			AS u(position, id, stream, version, type, schema, data,
				actor_id, actor_username, actor_role, correlation_id, causation_id)`,
		all.position, all.id, all.stream, all.version, all.typ, all.schema, all.data,
		all.actorID, all.actorUsername, all.actorRole, all.correlationID, all.causationID, recordedAt)
	// Delivered to listeners when (and only if) the transaction commits.
	b.Queue(`SELECT pg_notify($1, $2)`, s.channel, fmt.Sprint(last))
	if s.beforeCommit == nil {
		// A failing statement makes the server skip the rest of the
		// batch, COMMIT included: the deferred ROLLBACK ends it.
		b.Queue(`COMMIT`)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx); err != nil {
			return nil, err
		}
		if _, err := conn.Exec(ctx, `COMMIT`); err != nil {
			return nil, err
		}
	}
	inTx = false
	return outcomes, nil
}

// decide checks one append of a batch against the log as the appends
// before it left it (found: stored IDs; current: streams' revisions; last:
// the last allocated position). An accepted append gets its positions and
// revisions in r.Payload, and found, current and last are moved past it.
func (s *Store) decide(r *request, found map[uuid.UUID]eventstore.Stored, current map[string]*int64, last *int64) eventstore.Outcome {
	var mine map[uuid.UUID]eventstore.Stored
	for _, e := range r.Events {
		if st, ok := found[e.ID]; ok {
			if mine == nil {
				mine = map[uuid.UUID]eventstore.Stored{}
			}
			mine[e.ID] = st
		}
	}
	if mine != nil {
		res, err := eventstore.Retried(r.Stream, r.Expected, r.Events, mine)
		return eventstore.Outcome{Result: res, Err: err}
	}
	cur := current[r.Stream]
	exists := cur != nil
	var rev uint64
	if exists {
		rev = uint64(*cur)
	}
	if !r.Expected.Check(rev, exists) {
		return eventstore.Outcome{Err: &eventstore.VersionError{Stream: r.Stream, Expected: r.Expected, Actual: rev, Exists: exists}}
	}
	next := int64(0)
	if exists {
		next = *cur + 1
	}
	for i, e := range r.Events {
		r.Payload.position[i] = *last + 1 + int64(i)
		r.Payload.version[i] = next + int64(i)
		found[e.ID] = eventstore.Stored{Stream: r.Stream, Version: uint64(next) + uint64(i), Position: uint64(r.Payload.position[i])}
	}
	n := int64(len(r.Events))
	*last += n
	v := next + n - 1
	current[r.Stream] = &v
	return eventstore.Outcome{
		Result: eventstore.AppendResult{
			Revision: uint64(v),
			Position: eventstore.Seq(uint64(*last)),
		},
		Wrote: true,
	}
}

// columns holds rows column by column, for unnest.
type columns struct {
	position, version                 []int64
	id, stream                        []string
	typ, data                         []string
	schema                            []int32
	actorID, actorUsername, actorRole []string
	correlationID, causationID        []string
}

// add appends an append's rows, all in stream.
func (c *columns) add(stream string, r *columns) {
	c.position = append(c.position, r.position...)
	c.version = append(c.version, r.version...)
	c.id = append(c.id, r.id...)
	for range r.id {
		c.stream = append(c.stream, stream)
	}
	c.typ = append(c.typ, r.typ...)
	c.data = append(c.data, r.data...)
	c.schema = append(c.schema, r.schema...)
	c.actorID = append(c.actorID, r.actorID...)
	c.actorUsername = append(c.actorUsername, r.actorUsername...)
	c.actorRole = append(c.actorRole, r.actorRole...)
	c.correlationID = append(c.correlationID, r.correlationID...)
	c.causationID = append(c.causationID, r.causationID...)
}

// checkAppend validates an append before it reaches the database and lays
// it out as columns (empty data is JSON null).
func checkAppend(stream string, events []eventstore.EventData) (*columns, error) {
	n := len(events)
	c := &columns{
		position: make([]int64, n), version: make([]int64, n), id: make([]string, n),
		typ: make([]string, n), data: make([]string, n), schema: make([]int32, n),
		actorID: make([]string, n), actorUsername: make([]string, n), actorRole: make([]string, n),
		correlationID: make([]string, n), causationID: make([]string, n),
	}
	err := eventstore.CheckAppend(stream, events, func(i int, e eventstore.EventData) error {
		if e.Schema < -1<<31 || e.Schema > 1<<31-1 {
			return fmt.Errorf("event %s: schema %d out of range", e.ID, e.Schema)
		}
		switch {
		case len(e.Data) == 0:
			c.data[i] = "null"
		case !json.Valid(e.Data):
			return fmt.Errorf("event %s: data is not valid JSON", e.ID)
		default:
			c.data[i] = string(e.Data)
		}
		c.id[i] = e.ID.String()
		c.typ[i] = e.Type
		c.schema[i] = int32(e.Schema)
		c.actorID[i], c.actorUsername[i], c.actorRole[i] = e.Actor.ID, e.Actor.Username, e.Actor.Role
		c.correlationID[i], c.causationID[i] = e.CorrelationID, e.CausationID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
