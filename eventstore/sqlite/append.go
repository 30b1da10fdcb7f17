package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

const (
	// idChunk bounds the IDs looked up per query (SQLite caps bound
	// parameters).
	idChunk = 500
	// queued is how many appends may wait for the writer before Append
	// blocks (honouring its context).
	queued = 1024
	// maxBatch and maxBatchEvents bound one group commit: the appends it
	// takes from the queue, and the events they carry (a batch always
	// takes at least one append, however large).
	maxBatch       = 256
	maxBatchEvents = 4096
)

// The SQL the writer prepares once, at Open.
const (
	sqlVersion = `SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1`
	sqlLastAt  = `SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1`
	sqlByID    = `SELECT id, stream, version, position FROM events WHERE id = ?`
	sqlInsert  = `INSERT INTO events (id, stream, version, type, schema, data,
		actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// statements are the writer's prepared statements.
type statements struct {
	version, lastAt, byID, insert *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	st := &statements{}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{{&st.version, sqlVersion}, {&st.lastAt, sqlLastAt}, {&st.byID, sqlByID}, {&st.insert, sqlInsert}} {
		stmt, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", p.q, err), st.close())
		}
		*p.stmt = stmt
	}
	return st, nil
}

func (st *statements) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.version, st.lastAt, st.byID, st.insert} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// request is one Append on its way to the writer, with its events' data
// as stored.
type request = eventstore.Request[[]string]

// Append appends events to stream if its revision matches expected; see
// eventstore.Store. A *eventstore.VersionError is returned unwrapped (its
// message already names the append and the stream).
//
// The append is queued to the store's one writer, which commits every
// append waiting at that moment in one transaction (one fsync), checking
// each one's expected revision in turn, so each caller gets its own result
// or its own error. Append returns once that transaction has committed. A
// context cancelled while the append is still queued withdraws it (nothing
// is written); once the writer has taken it, Append waits for the commit
// (a few milliseconds) and reports its outcome.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	data, err := checkAppend(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if s.closed() {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	}
	r := eventstore.NewRequest(stream, expected, events, data)
	res, err := s.batches.Append(ctx, r, errClosed)
	if err != nil {
		var ve *eventstore.VersionError
		if errors.As(err, &ve) {
			return eventstore.AppendResult{}, ve
		}
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return res, nil
}

// write is the writer goroutine: it hands the appends waiting in the
// queue to commit, a batch at a time, and stops when the store closes
// (after the batch in flight).
func (s *Store) write() {
	s.batches.Run(s.done, errClosed, func(_ context.Context, batch []*request) {
		if s.commit(batch) {
			s.broadcast()
		}
	})
}

// commit writes batch in one transaction and answers every request in it;
// it reports whether anything was written. An append whose statements fail
// (other than by a version mismatch or a duplicate, which write nothing
// and are its answer) gets that error, and the others are committed again
// without it; a failure of the transaction itself (the write lock, the
// commit) is every append's answer.
func (s *Store) commit(batch []*request) bool {
	outcomes, failed, err := s.commitTx(batch)
	switch {
	case err != nil && failed >= 0:
		batch[failed].Answer(eventstore.Outcome{Err: err})
		rest := append(batch[:failed:failed], batch[failed+1:]...)
		return len(rest) > 0 && s.commit(rest)
	case err != nil:
		eventstore.FailAll(batch, err)
		return false
	}
	return eventstore.AnswerAll(batch, outcomes)
}

// commitTx runs batch's appends in one write transaction, in order, and
// commits it if any of them wrote. Each append sees the ones before it in
// the batch: the revision it is checked against, and the IDs it must not
// repeat, include theirs. err is what made the transaction fail, and
// failed the index of the append whose statement failed, or -1 when the
// transaction itself did.
func (s *Store) commitTx(batch []*request) (outcomes []eventstore.Outcome, failed int, err error) {
	// Not a caller's context: one caller giving up must not undo the
	// others' appends. Close waits for the batch in flight.
	ctx := context.Background()
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return nil, -1, err
	}
	defer tx.Rollback()
	st := &txStatements{ctx: ctx, tx: tx, prepared: s.stmts}

	// RecordedAt never goes back in position order: not when the clock
	// steps back, nor after another process (another clock) appended.
	var lastAt sql.NullInt64
	if err := st.stmt(s.stmts.lastAt).QueryRowContext(ctx).Scan(&lastAt); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, -1, err
	}
	recordedAt := max(s.now().UTC().UnixNano(), lastAt.Int64)

	outcomes = make([]eventstore.Outcome, len(batch))
	wrote := false
	for i, r := range batch {
		res, w, err := st.append(r, recordedAt)
		if err != nil && !errors.Is(err, eventstore.ErrWrongVersion) && !errors.Is(err, eventstore.ErrDuplicateEvent) {
			return nil, i, err
		}
		outcomes[i] = eventstore.Outcome{Result: res, Wrote: w, Err: err}
		wrote = wrote || w
	}
	if !wrote {
		return outcomes, -1, nil // the deferred rollback ends the transaction
	}
	if err := tx.Commit(); err != nil {
		return nil, -1, err
	}
	return outcomes, -1, nil
}

// txStatements binds the writer's prepared statements to one transaction,
// once each.
type txStatements struct {
	ctx      context.Context
	tx       *sql.Tx
	prepared *statements
	bound    map[*sql.Stmt]*sql.Stmt
}

func (t *txStatements) stmt(s *sql.Stmt) *sql.Stmt {
	if b, ok := t.bound[s]; ok {
		return b
	}
	if t.bound == nil {
		t.bound = make(map[*sql.Stmt]*sql.Stmt, 4)
	}
	b := t.tx.StmtContext(t.ctx, s)
	t.bound[s] = b
	return b
}

// append checks and writes one append inside the batch's transaction.
// wrote is false for an idempotent retry. A version mismatch or duplicate
// writes nothing; any other error leaves the transaction to be rolled back.
func (t *txStatements) append(r *request, recordedAt int64) (res eventstore.AppendResult, wrote bool, err error) {
	ctx, stream, events := t.ctx, r.Stream, r.Events
	if len(events) > 1 {
		// Several inserts: find a retry or a duplicate before the first,
		// so that none of them fails half-way.
		found, err := t.existing(events)
		if err != nil {
			return res, false, err
		}
		if len(found) > 0 {
			res, err := eventstore.Retried(stream, r.Expected, events, found)
			return res, false, err
		}
	}

	// ORDER BY … LIMIT 1 is one seek of the (stream, version) index.
	var cur sql.NullInt64
	err = t.stmt(t.prepared.version).QueryRowContext(ctx, stream).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, false, err
	}
	if !r.Expected.Check(uint64(cur.Int64), cur.Valid) {
		if len(events) == 1 {
			// An exact retry of an append that went through fails the
			// revision check (the stream has moved on): look it up.
			if res, err, ok := t.retry(r); ok {
				return res, false, err
			}
		}
		return res, false, &eventstore.VersionError{Stream: stream, Expected: r.Expected, Actual: uint64(cur.Int64), Exists: cur.Valid}
	}
	next := int64(0)
	if cur.Valid {
		next = cur.Int64 + 1
	}

	insert := t.stmt(t.prepared.insert)
	var last int64
	for i, e := range events {
		x, err := insert.ExecContext(ctx, e.ID.String(), stream, next+int64(i), e.Type, e.Schema, r.Payload[i],
			e.Actor.ID, e.Actor.Username, e.Actor.Role, e.CorrelationID, e.CausationID, recordedAt)
		if err != nil {
			if len(events) == 1 {
				// The one statement failed as a whole; if its ID is taken
				// (UNIQUE), this is a retry or a duplicate.
				if res, rerr, ok := t.retry(r); ok {
					return res, false, rerr
				}
			}
			return res, false, err
		}
		if last, err = x.LastInsertId(); err != nil {
			return res, false, err
		}
	}
	return eventstore.AppendResult{
		Revision: uint64(next) + uint64(len(events)) - 1,
		Position: eventstore.Seq(uint64(last)),
	}, true, nil
}

// retry looks up a one-event append's ID: ok is false when it is not
// stored, else res and err are retried's answer.
func (t *txStatements) retry(r *request) (res eventstore.AppendResult, err error, ok bool) {
	var (
		id string
		st eventstore.Stored
	)
	err = t.stmt(t.prepared.byID).QueryRowContext(t.ctx, r.Events[0].ID.String()).Scan(&id, &st.Stream, &st.Version, &st.Position)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return res, nil, false
	case err != nil:
		return res, err, true
	}
	res, err = eventstore.Retried(r.Stream, r.Expected, r.Events, map[uuid.UUID]eventstore.Stored{r.Events[0].ID: st})
	return res, err, true
}

// existing looks up which of events' IDs are already stored.
func (t *txStatements) existing(events []eventstore.EventData) (map[uuid.UUID]eventstore.Stored, error) {
	found := map[uuid.UUID]eventstore.Stored{}
	for start := 0; start < len(events); start += idChunk {
		chunk := events[start:min(start+idChunk, len(events))]
		args := make([]any, len(chunk))
		for i, e := range chunk {
			args[i] = e.ID.String()
		}
		q := `SELECT id, stream, version, position FROM events WHERE id IN (?` + strings.Repeat(`, ?`, len(chunk)-1) + `)`
		rows, err := t.tx.QueryContext(t.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var st eventstore.Stored
			if err := rows.Scan(&id, &st.Stream, &st.Version, &st.Position); err != nil {
				rows.Close()
				return nil, err
			}
			u, err := uuid.Parse(id)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("stored event id %q: %w", id, err)
			}
			found[u] = st
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// checkAppend validates an append before it touches the file, and returns
// each event's data as stored (empty data is JSON null).
func checkAppend(stream string, events []eventstore.EventData) ([]string, error) {
	data := make([]string, len(events))
	err := eventstore.CheckAppend(stream, events, func(i int, e eventstore.EventData) error {
		switch {
		case len(e.Data) == 0:
			data[i] = "null"
		case !json.Valid(e.Data):
			return fmt.Errorf("event %s: data is not valid JSON", e.ID)
		default:
			data[i] = string(e.Data)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}
