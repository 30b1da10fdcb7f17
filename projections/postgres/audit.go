package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// The audit index (rm_audit) holds one row per event: the envelope facts
// queries filter on, and what the record's summary and diff are computed
// from when a query returns it: the event itself (schema, data) and the
// key of the row it touched (projections.AuditRowKey). Computing them at
// read time, from the events of the same (stream, row_key) up to the
// record, gives exactly the in-memory read model's records (the same
// projections.AuditReplay step), and costs a rebuild nothing but the
// bytes: no fold, no JSON.

// auditRow is one row of rm_audit.
type auditRow struct {
	commit, prepare int64
	ev              eventstore.Event // envelope, schema and data (scrubbed)
	rowKey          string
}

// newAuditRow returns ev's audit row; e is ev decoded.
func newAuditRow(ev eventstore.Event, e domain.Event) (auditRow, error) {
	c, p, err := columns(ev.Position)
	if err != nil {
		return auditRow{}, err
	}
	if ev.Schema, ev.Data, err = scrubbed(ev, e); err != nil {
		return auditRow{}, fmt.Errorf("audit %s@%d: %w", ev.Stream, ev.Version, err)
	}
	return auditRow{commit: c, prepare: p, ev: ev, rowKey: projections.AuditRowKey(e)}, nil
}

// scrubbed returns the schema and data to keep of ev: its own, except
// that a password hash is blanked (the audit never shows one, and the
// index need not hold every hash a user ever had).
func scrubbed(ev eventstore.Event, e domain.Event) (int, []byte, error) {
	var clean domain.Event
	switch e := e.(type) {
	case *domain.UserCreated:
		if e.PasswordHash != "" {
			c := *e
			c.PasswordHash = ""
			clean = &c
		}
	case *domain.UserPasswordChanged:
		if e.PasswordHash != "" {
			c := *e
			c.PasswordHash = ""
			clean = &c
		}
	}
	if clean == nil {
		return ev.Schema, ev.Data, nil
	}
	_, schema, data, err := domain.Encode(clean)
	return schema, data, err
}

// auditColumns are rm_audit's columns, in auditRow.values order.
var auditColumns = []column{{"commit_position", tBigint}, {"prepare_position", tBigint}, {"stream", tText}, {"type", tText}, {"version", tBigint},
	{"actor_id", tText}, {"actor_username", tText}, {"actor_role", tText}, {"recorded_at", tTime}, {"correlation_id", tText},
	{"row_key", tText}, {"schema", tInt}, {"data", tJSON}, {"recorded_nanos", tInt}}

// write writes the row to s, in auditColumns' order.
func (r *auditRow) write(s rowSink) error {
	s.int64(r.commit)
	s.int64(r.prepare)
	s.text(r.ev.Stream)
	s.text(r.ev.Type)
	s.int64(int64(r.ev.Version))
	s.text(r.ev.Actor.ID)
	s.text(r.ev.Actor.Username)
	s.text(r.ev.Actor.Role)
	s.time(r.ev.RecordedAt)
	s.text(r.ev.CorrelationID)
	s.text(r.rowKey)
	s.int32(int32(r.ev.Schema))
	s.json(r.ev.Data)
	s.int32(subMicro(r.ev.RecordedAt))
	return s.end()
}

// subMicro is the part of t that timestamptz drops: its nanoseconds
// within the microsecond. (pgx writes a time as whole microseconds,
// rounded down.)
func subMicro(t time.Time) int32 { return int32(t.Nanosecond() % 1000) }

// splitMicro splits t into what timestamptz keeps and subMicro.
func splitMicro(t time.Time) (time.Time, int32) {
	return t.Truncate(time.Microsecond), subMicro(t)
}

// Audit returns the audit records q selects, in q's order, each with the
// summary and diff the in-memory read model gives it. A record written
// before migration 0002, or a later one of a stream that has such
// records, has neither, until `hub projections rebuild audit`; nor has
// one whose row holds an event this build cannot decode.
func (m *ReadModel) Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	if m.isClosed() {
		return nil, fmt.Errorf("audit: %w", errClosed)
	}
	q = q.Normalize()
	ac, ap, err := columns(q.After)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	bc, bp := int64(math.MaxInt64), int64(math.MaxInt64)
	if !q.Before.IsZero() {
		if bc, bp, err = columns(q.Before); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	// Times compare to the nanosecond, as the in-memory model's do: the
	// microseconds with the index, then the nanoseconds within one.
	var (
		from, to           *time.Time
		fromNanos, toNanos int32
	)
	if !q.From.IsZero() {
		t, ns := splitMicro(q.From)
		from, fromNanos = &t, ns
	}
	if !q.To.IsZero() {
		t, ns := splitMicro(q.To)
		to, toNanos = &t, ns
	}
	stream, prefix := q.Stream, ""
	if q.StreamIsPrefix() {
		stream, prefix = "", q.Stream
	}
	order := "ASC"
	if q.Newest {
		order = "DESC"
	}
	rows, err := m.pool.Query(ctx, `SELECT commit_position, prepare_position, stream, type, version,
			actor_id, actor_username, actor_role, recorded_at, COALESCE(recorded_nanos, 0), correlation_id, row_key
		FROM rm_audit
		WHERE (commit_position, prepare_position) > ($1, $2) AND (commit_position, prepare_position) < ($3, $4)
			AND ($5 = '' OR actor_username = $5) AND ($6 = '' OR stream = $6) AND ($7 = '' OR starts_with(stream, $7))
			AND ($8 = '' OR type = $8)
			AND ($9::timestamptz IS NULL OR recorded_at >= $9 AND (recorded_at > $9 OR COALESCE(recorded_nanos, 0) >= $12))
			AND ($10::timestamptz IS NULL OR recorded_at <= $10 AND (recorded_at < $10 OR COALESCE(recorded_nanos, 0) < $13))
			AND ($14 = '' OR NOT starts_with(stream, $14))
		ORDER BY commit_position `+order+`, prepare_position `+order+` LIMIT $11`,
		ac, ap, bc, bp, q.Actor, stream, prefix, q.Type, from, to, q.Limit, fromNanos, toNanos, q.Hide)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", m.fail(err))
	}
	defer rows.Close()
	out := []AuditRecord{}
	var keys []*string // each record's row_key; nil: written before 0002
	for rows.Next() {
		var (
			r       AuditRecord
			c, p, v int64
			nanos   int32
			key     *string
		)
		if err := rows.Scan(&c, &p, &r.Stream, &r.Type, &v, &r.Actor.ID, &r.Actor.Username, &r.Actor.Role, &r.RecordedAt, &nanos, &r.CorrelationID, &key); err != nil {
			return nil, fmt.Errorf("audit: %w", m.fail(err))
		}
		r.Position, r.Version = position(c, p), uint64(v)
		r.RecordedAt = r.RecordedAt.UTC().Add(time.Duration(nanos))
		out = append(out, r)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", m.fail(err))
	}
	if err := m.explain(ctx, out, keys); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}

// rowRef names one row of one stream.
type rowRef struct{ stream, key string }

// explain fills in the summary and diff of recs (whose row keys are keys)
// by folding, for each row they touch, the row's events up to the latest
// of them, in one query.
func (m *ReadModel) explain(ctx context.Context, recs []AuditRecord, keys []*string) error {
	latest := map[rowRef]eventstore.Position{}
	wanted := map[eventstore.Position]int{} // position → index in recs
	for i, r := range recs {
		if keys[i] == nil {
			continue
		}
		ref := rowRef{r.Stream, *keys[i]}
		if r.Position.Compare(latest[ref]) > 0 {
			latest[ref] = r.Position
		}
		wanted[r.Position] = i
	}
	if len(latest) == 0 {
		return nil
	}
	var streams, rowKeys []string
	var cs, ps []int64
	for ref, at := range latest {
		c, p, err := columns(at)
		if err != nil {
			return err
		}
		streams, rowKeys, cs, ps = append(streams, ref.stream), append(rowKeys, ref.key), append(cs, c), append(ps, p)
	}
	// A row's history is complete unless its stream has rows from before
	// migration 0002 (row_key NULL) up to the record: those rows' keys
	// are unknown, so any of them may be this row's.
	rows, err := m.pool.Query(ctx, `SELECT h.stream, h.row_key, h.commit_position, h.prepare_position, h.type, h.version,
			h.actor_id, h.actor_username, h.actor_role, h.recorded_at, h.correlation_id, h.schema, h.data
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS k(stream, row_key, c, p)
		JOIN rm_audit h ON h.stream = k.stream AND h.row_key = k.row_key
			AND (h.commit_position, h.prepare_position) <= (k.c, k.p)
		WHERE NOT EXISTS (SELECT 1 FROM rm_audit o WHERE o.stream = k.stream AND o.row_key IS NULL
			AND (o.commit_position, o.prepare_position) <= (k.c, k.p))
		ORDER BY h.stream, h.row_key, h.commit_position, h.prepare_position`, streams, rowKeys, cs, ps)
	if err != nil {
		return m.fail(err)
	}
	defer rows.Close()
	var (
		replay projections.AuditReplay
		at     rowRef
		first  = true
		broken bool // an event of the row did not decode
	)
	for rows.Next() {
		var (
			ref           rowRef
			ev            eventstore.Event
			c, p, version int64
			schema        int32
		)
		if err := rows.Scan(&ref.stream, &ref.key, &c, &p, &ev.Type, &version, &ev.Actor.ID, &ev.Actor.Username, &ev.Actor.Role,
			&ev.RecordedAt, &ev.CorrelationID, &schema, &ev.Data); err != nil {
			return m.fail(err)
		}
		if first || ref != at {
			replay, at, first, broken = projections.AuditReplay{}, ref, false, false
		}
		if broken {
			continue
		}
		ev.Stream, ev.Position, ev.Version, ev.Schema = ref.stream, position(c, p), uint64(version), int(schema)
		e, err := projections.Decode(ev)
		if err != nil {
			// A type this build does not know (written by a newer hub of
			// the fleet, mid-rollout): the row's records from here on
			// stay without summary and diff, rather than the page failing.
			broken = true
			continue
		}
		src := replay.Apply(ev, e)
		if i, ok := wanted[ev.Position]; ok {
			x := src.Explain()
			recs[i].Summary, recs[i].Diff = x.Summary, x.Diff
		}
	}
	if err := rows.Err(); err != nil {
		return m.fail(err)
	}
	return nil
}
