package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// tables names one set of the read model's tables: the live ones, or the
// fresh ones a rebuild fills.
type tables struct {
	streams, alerts, shifts, log, informes, users, audit string
}

// Table groups, as rebuild names them.
var (
	viewTables  = []string{"rm_streams", "rm_alerts", "rm_shifts", "rm_log", "rm_informes", "rm_users"}
	auditTables = []string{"rm_audit"}
)

func tablesWithSuffix(suffix string) tables {
	return tables{
		streams: "rm_streams" + suffix, alerts: "rm_alerts" + suffix, shifts: "rm_shifts" + suffix,
		log: "rm_log" + suffix, informes: "rm_informes" + suffix, users: "rm_users" + suffix,
		audit: "rm_audit" + suffix,
	}
}

var live = tablesWithSuffix("")

// Apply implements projections.ReadModel. In one transaction it locks the
// checkpoint row, skips the events at or before it, folds the rest into
// their streams' states, writes the states, the view rows, the audit rows
// and the new checkpoint, and sends a NOTIFY that standing-by instances
// receive on commit. It returns one Change per applied event, in order.
func (m *ReadModel) Apply(ctx context.Context, events []eventstore.Event) ([]projections.Change, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if m.isClosed() {
		return nil, fmt.Errorf("apply from %s: %w", events[0].Position, errClosed)
	}
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	var (
		changes []projections.Change
		at      eventstore.Position
		gen     int64
	)
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var c, p int64
		b := &pgx.Batch{}
		// The read model can always be rebuilt from the log, and the
		// checkpoint commits with the rows: losing the last commits in a
		// server crash only means re-applying them.
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(`SELECT commit_position, prepare_position, generation FROM rm_checkpoint FOR UPDATE`).
			QueryRow(func(r pgx.Row) error { return r.Scan(&c, &p, &gen) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		at = position(c, p)
		if m.cache == nil || at != m.cacheAt || gen != m.cacheGen {
			m.cache = map[string]*projections.StreamState{}
		}
		fresh := after(events, at)
		if len(fresh) == 0 {
			return nil
		}
		if err := loadStates(ctx, tx, live.streams, fresh, m.cache); err != nil {
			return err
		}
		w := newWriter(live, true, true)
		var err error
		if changes, err = w.apply(fresh, m.cache); err != nil {
			return err
		}
		at = fresh[len(fresh)-1].Position
		c, p, err = columns(at)
		if err != nil {
			return err
		}
		b, err = w.batch()
		if err != nil {
			return err
		}
		b.Queue(`UPDATE rm_checkpoint SET commit_position = $1, prepare_position = $2, updated_at = now()`, c, p)
		b.Queue(`SELECT pg_notify($1, $2)`, m.channel, at.String())
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if m.beforeCommit != nil {
			return m.beforeCommit(ctx, tx)
		}
		return nil
	})
	if err != nil {
		m.cache = nil // folded ahead of what committed
		return nil, fmt.Errorf("apply %s–%s: %w", events[0].Position, events[len(events)-1].Position, m.fail(err))
	}
	m.cacheAt, m.cacheGen = at, gen
	if len(m.cache) > maxCached {
		m.cache = nil
	}
	return changes, nil
}

// after returns the events positioned after at.
func after(events []eventstore.Event, at eventstore.Position) []eventstore.Event {
	for i, ev := range events {
		if at.IsZero() || ev.Position.Compare(at) > 0 {
			return events[i:]
		}
	}
	return nil
}

// loadStates puts into cache the stored state of every stream of events
// that it lacks (a new StreamState for a stream never seen).
func loadStates(ctx context.Context, tx pgx.Tx, table string, events []eventstore.Event, cache map[string]*projections.StreamState) error {
	var missing []string
	seen := map[string]bool{}
	for _, ev := range events {
		if cache[ev.Stream] == nil && !seen[ev.Stream] {
			seen[ev.Stream] = true
			missing = append(missing, ev.Stream)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT stream, state FROM `+table+` WHERE stream = ANY($1::text[])`, missing)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var stream string
		var raw []byte
		if err := rows.Scan(&stream, &raw); err != nil {
			return err
		}
		st := &projections.StreamState{}
		if err := json.Unmarshal(raw, st); err != nil {
			return fmt.Errorf("state of %s: %w", stream, err)
		}
		cache[stream] = st
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range missing {
		if cache[s] == nil {
			cache[s] = &projections.StreamState{}
		}
	}
	return nil
}

// writer gathers one transaction's writes, event by event, keeping only
// the last version of each row, and sends them as one batch.
type writer struct {
	t            tables
	views, audit bool

	states   map[string]*projections.StreamState
	alerts   map[string]projections.AlertView
	shifts   map[[2]string]*projections.ShiftView // nil: the slot was emptied
	log      map[[2]string]logRow
	informes map[string]domain.InformeHeader
	users    map[string]userRow
	trail    auditRows
	entries  entryJSON
}

type logRow struct {
	entry *domain.LogEntry // the state's entry: the row's JSON is its JSON
	view  projections.LogEntryView
	seq   eventstore.Position // of the event that added it; zero: keep the stored one
}

type userRow struct {
	view projections.UserView
	last eventstore.Position
}

func newWriter(t tables, views, audit bool) *writer {
	return &writer{
		t: t, views: views, audit: audit,
		states:   map[string]*projections.StreamState{},
		alerts:   map[string]projections.AlertView{},
		shifts:   map[[2]string]*projections.ShiftView{},
		log:      map[[2]string]logRow{},
		informes: map[string]domain.InformeHeader{},
		users:    map[string]userRow{},
	}
}

// apply folds events (in position order, none applied yet) into the
// states in cache, which must hold every stream they touch, and records
// the rows to write. It returns the change notices.
func (w *writer) apply(events []eventstore.Event, cache map[string]*projections.StreamState) ([]projections.Change, error) {
	return w.applyDecoded(events, nil, cache)
}

// applyDecoded is apply with the events' domain form already decoded
// (decoded[i] is events[i]'s), when decoded is not nil.
func (w *writer) applyDecoded(events []eventstore.Event, decoded []domain.Event, cache map[string]*projections.StreamState) ([]projections.Change, error) {
	var changes []projections.Change
	for i, ev := range events {
		if w.audit {
			row, err := auditRow(ev)
			if err != nil {
				return nil, err
			}
			w.trail = append(w.trail, row)
		}
		if !w.views {
			continue
		}
		var e domain.Event
		if decoded != nil {
			e = decoded[i]
		} else {
			var err error
			if e, err = projections.Decode(ev); err != nil {
				return nil, err
			}
		}
		st := cache[ev.Stream]
		if st == nil {
			st = &projections.StreamState{}
			cache[ev.Stream] = st
		}
		c, ok := st.Apply(ev, e)
		w.states[ev.Stream] = st
		if !ok {
			continue
		}
		w.row(ev, e, st, c)
		changes = append(changes, c)
	}
	return changes, nil
}

// row records the view row a change carries.
func (w *writer) row(ev eventstore.Event, e domain.Event, st *projections.StreamState, c projections.Change) {
	switch v := c.Data.(type) {
	case projections.AlertView:
		w.alerts[strings.TrimPrefix(ev.Stream, domain.AlertPrefix)] = v
	case projections.ShiftChange:
		w.shifts[[2]string{v.Date, v.Slot}] = v.Shift
	case projections.LogEntryView:
		key := [2]string{strings.TrimPrefix(ev.Stream, domain.LogPrefix), v.ID}
		r := w.log[key]
		r.view, r.entry = v, st.Log.Entry(v.ID)
		if _, added := e.(*domain.LogEntryAdded); added {
			r.seq = ev.Position
		}
		w.log[key] = r
	case domain.InformeHeader:
		w.informes[strings.TrimPrefix(ev.Stream, domain.InformePrefix)] = v
	case projections.UserView:
		w.users[strings.TrimPrefix(ev.Stream, domain.UserPrefix)] = userRow{view: v, last: ev.Position}
	}
}

// A tableSpec says how rows reach one table: its columns in row order,
// with their types, and for an upsert the conflict key and any column that
// is not simply overwritten.
type tableSpec struct {
	cols []column
	key  string
	keep map[string]string // column → its SET expression on conflict
}

type column struct{ name, typ string }

// The types a column may have; json travels as text and is cast.
const (
	tText   = "text"
	tJSON   = "json"
	tBigint = "bigint"
	tInt    = "integer"
	tBool   = "boolean"
	tTime   = "timestamptz"
)

var specs = map[string]tableSpec{
	"rm_streams": {cols: []column{{"stream", tText}, {"state", tJSON}}, key: "stream"},
	"rm_alerts": {cols: []column{{"id", tText}, {"status", tText}, {"level", tText}, {"hazard", tText}, {"title", tText},
		{"declared_at", tTime}, {"version", tBigint}, {"updated_by", tText}, {"view", tJSON}}, key: "id"},
	"rm_shifts": {cols: []column{{"date", tText}, {"slot", tText}, {"start", tText}, {"lead", tText}, {"version", tInt}, {"view", tJSON}}, key: "date, slot"},
	// An entry added in the batch takes its place (seq); one only corrected
	// keeps the place it has.
	"rm_log": {cols: []column{{"date", tText}, {"id", tText}, {"seq_commit", tBigint}, {"seq_prepare", tBigint}, {"category", tText}, {"version", tInt}, {"view", tJSON}}, key: "date, id",
		keep: map[string]string{
			"seq_commit":  "CASE WHEN excluded.seq_commit > 0 THEN excluded.seq_commit ELSE %[1]s.seq_commit END",
			"seq_prepare": "CASE WHEN excluded.seq_commit > 0 THEN excluded.seq_prepare ELSE %[1]s.seq_prepare END",
		}},
	"rm_informes": {cols: []column{{"date", tText}, {"number", tText}, {"title", tText}, {"view", tJSON}}, key: "date"},
	"rm_users": {cols: []column{{"id", tText}, {"username", tText}, {"role", tText}, {"disabled", tBool}, {"password_hash", tText},
		{"last_commit", tBigint}, {"last_prepare", tBigint}, {"view", tJSON}}, key: "id"},
	"rm_audit": {cols: []column{{"commit_position", tBigint}, {"prepare_position", tBigint}, {"stream", tText}, {"type", tText}, {"version", tBigint},
		{"actor_id", tText}, {"actor_username", tText}, {"actor_role", tText}, {"recorded_at", tTime}, {"correlation_id", tText}}},
}

// name returns the table of base in the writer's set.
func (t tables) name(base string) string {
	switch base {
	case "rm_streams":
		return t.streams
	case "rm_alerts":
		return t.alerts
	case "rm_shifts":
		return t.shifts
	case "rm_log":
		return t.log
	case "rm_informes":
		return t.informes
	case "rm_users":
		return t.users
	}
	return t.audit
}

// rows renders everything recorded as rows of each base table, and the
// (date, slot) keys of emptied shifts.
func (w *writer) rows() (map[string][][]any, [][]any, error) {
	out := map[string][][]any{}
	for _, base := range w.bases() {
		rs, err := w.tableRows(base)
		if err != nil {
			return nil, nil, err
		}
		out[base] = rs
	}
	var emptied [][]any
	for k, sh := range w.shifts {
		if sh == nil {
			emptied = append(emptied, []any{k[0], k[1]})
		}
	}
	return out, emptied, nil
}

// bases lists the tables the writer writes.
func (w *writer) bases() []string {
	var out []string
	if w.views {
		out = append(out, viewTables...)
	}
	if w.audit {
		out = append(out, auditTables...)
	}
	return out
}

// tableRows renders what was recorded for one base table as its rows.
func (w *writer) tableRows(base string) ([][]any, error) {
	var out [][]any
	add := func(what string, v any, row func(raw []byte) []any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, row(raw))
		return nil
	}
	switch base {
	case "rm_audit":
		return w.trail, nil
	case "rm_streams":
		for s, st := range w.states {
			raw, err := w.entries.state(st)
			if err != nil {
				return nil, fmt.Errorf("state of %s: %w", s, err)
			}
			out = append(out, []any{s, raw})
		}
	case "rm_alerts":
		for id, v := range w.alerts {
			if err := add("alert "+id, v, func(raw []byte) []any {
				return []any{id, v.Status, v.Level, v.Hazard, v.Title, v.DeclaredAt, int64(v.Version), v.UpdatedBy, raw}
			}); err != nil {
				return nil, err
			}
		}
	case "rm_shifts":
		for k, sh := range w.shifts {
			if sh == nil {
				continue
			}
			if err := add("shift "+k[0]+"/"+k[1], sh, func(raw []byte) []any {
				return []any{k[0], k[1], sh.Start, sh.Lead, int32(sh.Version), raw}
			}); err != nil {
				return nil, err
			}
		}
	case "rm_log":
		for k, r := range w.log {
			c, p, err := columns(r.seq)
			if err != nil {
				return nil, err
			}
			raw, err := w.entries.entry(r.entry)
			if err != nil {
				return nil, fmt.Errorf("log entry %s: %w", k[1], err)
			}
			out = append(out, []any{k[0], k[1], c, p, string(r.view.Category), int32(r.view.Version), raw})
		}
	case "rm_informes":
		for date, h := range w.informes {
			if err := add("informe "+date, h, func(raw []byte) []any { return []any{date, h.Number, h.Title, raw} }); err != nil {
				return nil, err
			}
		}
	case "rm_users":
		for id, r := range w.users {
			c, p, err := columns(r.last)
			if err != nil {
				return nil, err
			}
			if err := add("user "+id, r.view, func(raw []byte) []any {
				return []any{id, r.view.Username, r.view.Role, r.view.Disabled, r.view.PasswordHash, c, p, raw}
			}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// batch returns the statements that write everything recorded over what
// the tables hold: one upsert per table, rows passed as arrays.
func (w *writer) batch() (*pgx.Batch, error) {
	rows, emptied, err := w.rows()
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	if len(emptied) > 0 {
		cols := transpose(specs["rm_shifts"].cols[:2], emptied)
		b.Queue(`DELETE FROM `+w.t.shifts+` s USING unnest($1::text[], $2::text[]) AS u(date, slot)
			WHERE s.date = u.date AND s.slot = u.slot`, cols...)
	}
	for _, base := range slices.Sorted(maps.Keys(rows)) {
		if len(rows[base]) > 0 {
			b.Queue(upsertSQL(w.t.name(base), specs[base]), transpose(specs[base].cols, rows[base])...)
		}
	}
	return b, nil
}

// copy writes everything recorded into tables that hold none of it yet
// (a rebuild's fresh tables), with COPY.
func (w *writer) copy(ctx context.Context, tx pgx.Tx) error {
	rows, _, err := w.rows()
	if err != nil {
		return err
	}
	for base, rs := range rows {
		if err := copyRows(ctx, tx, w.t.name(base), base, rs); err != nil {
			return err
		}
	}
	return nil
}

// copyRows copies rows of base into table.
func copyRows(ctx context.Context, tx pgx.Tx, table, base string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	names := make([]string, len(specs[base].cols))
	for i, c := range specs[base].cols {
		names[i] = c.name
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// upsertSQL inserts rows given as one array per column, overwriting the
// row with the same key (a table without a key only inserts: a second
// row for a position is an error, never silently ignored).
func upsertSQL(table string, spec tableSpec) string {
	var names, params, selects, sets []string
	for i, c := range spec.cols {
		names = append(names, c.name)
		typ := c.typ
		sel := "u." + c.name
		if typ == tJSON {
			typ, sel = tText, sel+"::json"
		}
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, typ))
		selects = append(selects, sel)
		if keep, ok := spec.keep[c.name]; ok {
			sets = append(sets, c.name+" = "+fmt.Sprintf(keep, table))
		} else if !strings.Contains(", "+spec.key+",", ", "+c.name+",") {
			sets = append(sets, c.name+" = excluded."+c.name)
		}
	}
	q := `INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) SELECT ` + strings.Join(selects, ", ") +
		` FROM unnest(` + strings.Join(params, ", ") + `) AS u(` + strings.Join(names, ", ") + `)`
	if spec.key != "" {
		q += ` ON CONFLICT (` + spec.key + `) DO UPDATE SET ` + strings.Join(sets, ", ")
	}
	return q
}

// transpose turns rows into one typed slice per column, for unnest.
func transpose(cols []column, rows [][]any) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		switch c.typ {
		case tText:
			v := make([]string, len(rows))
			for j, r := range rows {
				v[j] = r[i].(string)
			}
			out[i] = v
		case tJSON:
			v := make([]string, len(rows))
			for j, r := range rows {
				v[j] = string(r[i].([]byte))
			}
			out[i] = v
		case tBigint:
			v := make([]int64, len(rows))
			for j, r := range rows {
				v[j] = r[i].(int64)
			}
			out[i] = v
		case tInt:
			v := make([]int32, len(rows))
			for j, r := range rows {
				v[j] = r[i].(int32)
			}
			out[i] = v
		case tBool:
			v := make([]bool, len(rows))
			for j, r := range rows {
				v[j] = r[i].(bool)
			}
			out[i] = v
		case tTime:
			v := make([]time.Time, len(rows))
			for j, r := range rows {
				v[j] = r[i].(time.Time)
			}
			out[i] = v
		}
	}
	return out
}

// auditRows are audit index rows, in rm_audit's column order.
type auditRows = [][]any

func auditRow(ev eventstore.Event) ([]any, error) {
	c, p, err := columns(ev.Position)
	if err != nil {
		return nil, err
	}
	return []any{c, p, ev.Stream, ev.Type, int64(ev.Version), ev.Actor.ID, ev.Actor.Username, ev.Actor.Role, ev.RecordedAt, ev.CorrelationID}, nil
}

// entryJSON encodes log entries once per flush: a day's log state holds
// every entry of the day, each of which is also a row of rm_log, so the
// state is written around the entries' JSON instead of encoding them
// again (most of a rebuild's encoding). Entries are never changed in
// place (a correction replaces the pointer), so a pointer names one
// content. It is safe for concurrent use.
type entryJSON struct {
	mu    sync.Mutex
	cache map[*domain.LogEntry][]byte
}

// entry returns e's JSON: that of projections.LogEntryView{*e}, which has
// no field of its own.
func (c *entryJSON) entry(e *domain.LogEntry) ([]byte, error) {
	c.mu.Lock()
	raw, ok := c.cache[e]
	c.mu.Unlock()
	if ok {
		return raw, nil
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[*domain.LogEntry][]byte{}
	}
	c.cache[e] = raw
	c.mu.Unlock()
	return raw, nil
}

// state returns st's JSON, byte for byte what json.Marshal returns (a test
// holds it to that), reusing the entries' JSON for a log state.
func (c *entryJSON) state(st *projections.StreamState) ([]byte, error) {
	if st.Log == nil || st.Alert != nil || st.Roster != nil || st.Informe != nil || st.User != nil {
		return json.Marshal(st)
	}
	date, err := json.Marshal(st.Log.Date)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"log":{"Date":`)
	b.Write(date)
	b.WriteString(`,"Entries":`)
	if st.Log.Entries == nil {
		b.WriteString(`null`)
	} else {
		b.WriteByte('[')
		for i, e := range st.Log.Entries {
			if i > 0 {
				b.WriteByte(',')
			}
			if e == nil {
				b.WriteString(`null`)
				continue
			}
			raw, err := c.entry(e)
			if err != nil {
				return nil, err
			}
			b.Write(raw)
		}
		b.WriteByte(']')
	}
	b.WriteString(`}}`)
	return b.Bytes(), nil
}
