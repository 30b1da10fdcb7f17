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

// idChunk bounds the IDs looked up per query (SQLite caps bound parameters).
const idChunk = 500

// Append appends events to stream if its revision matches expected; see
// eventstore.Store. A *eventstore.VersionError is returned unwrapped (its
// message already names the append and the stream).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	data, err := checkAppend(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, ctx.Err())
	}
	defer func() { <-s.sem }()
	if s.closed() {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, errClosed)
	}
	res, wrote, err := s.append(ctx, stream, expected, events, data)
	if err != nil {
		var ve *eventstore.VersionError
		if errors.As(err, &ve) {
			return eventstore.AppendResult{}, ve
		}
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if wrote {
		s.broadcast()
	}
	return res, nil
}

// append runs the write transaction. wrote is false for an idempotent
// retry.
func (s *Store) append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.EventData, data []string) (res eventstore.AppendResult, wrote bool, err error) {
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return res, false, err
	}
	defer tx.Rollback()

	found, err := existing(ctx, tx, events)
	if err != nil {
		return res, false, err
	}
	if len(found) > 0 {
		res, err := retried(stream, expected, events, found)
		return res, false, err
	}

	// ORDER BY … LIMIT 1 is one seek of the (stream, version) index.
	var cur sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1`, stream).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, false, err
	}
	if !expected.Check(uint64(cur.Int64), cur.Valid) {
		return res, false, &eventstore.VersionError{Stream: stream, Expected: expected, Actual: uint64(cur.Int64), Exists: cur.Valid}
	}
	next := int64(0)
	if cur.Valid {
		next = cur.Int64 + 1
	}

	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (id, stream, version, type, schema, data,
		actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return res, false, err
	}
	defer stmt.Close()
	recordedAt := s.now().UTC().UnixNano()
	var last int64
	for i, e := range events {
		r, err := stmt.ExecContext(ctx, e.ID.String(), stream, next+int64(i), e.Type, e.Schema, data[i],
			e.Actor.ID, e.Actor.Username, e.Actor.Role, e.CorrelationID, e.CausationID, recordedAt)
		if err != nil {
			return res, false, err
		}
		if last, err = r.LastInsertId(); err != nil {
			return res, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, false, err
	}
	return eventstore.AppendResult{
		NextExpected: uint64(next) + uint64(len(events)) - 1,
		Position:     eventstore.Seq(uint64(last)),
	}, true, nil
}

// stored is where an already appended event sits.
type stored struct {
	stream   string
	version  uint64
	position uint64
}

// existing looks up which of events' IDs are already stored.
func existing(ctx context.Context, tx *sql.Tx, events []eventstore.EventData) (map[uuid.UUID]stored, error) {
	found := map[uuid.UUID]stored{}
	for start := 0; start < len(events); start += idChunk {
		chunk := events[start:min(start+idChunk, len(events))]
		args := make([]any, len(chunk))
		for i, e := range chunk {
			args[i] = e.ID.String()
		}
		q := `SELECT id, stream, version, position FROM events WHERE id IN (?` + strings.Repeat(`, ?`, len(chunk)-1) + `)`
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var st stored
			if err := rows.Scan(&id, &st.stream, &st.version, &st.position); err != nil {
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

// checkAppend validates an append before it touches the file, and returns
// each event's data as stored (empty data is JSON null).
func checkAppend(stream string, events []eventstore.EventData) ([]string, error) {
	switch {
	case stream == "":
		return nil, errors.New("empty stream name")
	case strings.HasPrefix(stream, "$"):
		return nil, errors.New("stream names starting with $ are reserved")
	case len(events) == 0:
		return nil, errors.New("no events")
	}
	data := make([]string, len(events))
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
		switch {
		case len(e.Data) == 0:
			data[i] = "null"
		case !json.Valid(e.Data):
			return nil, fmt.Errorf("event %s: data is not valid JSON", e.ID)
		default:
			data[i] = string(e.Data)
		}
	}
	return data, nil
}
