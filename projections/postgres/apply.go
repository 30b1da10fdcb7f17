package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
	return m.ApplyDecoded(ctx, events, nil)
}

// ApplyDecoded is Apply with the events decoded already: decoded[i] is
// events[i]'s domain event, or nil to decode it here (decoded may be nil).
// The projector's catch-up decodes the next batch while this one is
// written.
func (m *ReadModel) ApplyDecoded(ctx context.Context, events []eventstore.Event, decoded []domain.Event) ([]projections.Change, error) {
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
		var freshDecoded []domain.Event
		if decoded != nil {
			freshDecoded = decoded[len(events)-len(fresh):]
		}
		if err := loadStates(ctx, tx, live.streams, fresh, m.cache); err != nil {
			return err
		}
		w := newWriter(live, true, true)
		var err error
		if changes, err = w.applyDecoded(fresh, freshDecoded, m.cache); err != nil {
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
	trail    []auditRow
	// changes is whether apply returns change notices (a rebuild does not
	// publish any).
	changes bool
}

type logRow struct {
	entry *domain.LogEntry    // the state's entry: the row's JSON is its JSON
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
		changes:  true,
	}
}

// applyDecoded folds events (in position order, none applied yet) into
// the states in cache, which must hold every stream they touch, and
// records the rows to write. It returns the change notices (none when
// w.changes is false). decoded[i], when decoded is not nil, is events[i]
// decoded already; nil there, or no decoded, is decoded here.
func (w *writer) applyDecoded(events []eventstore.Event, decoded []domain.Event, cache map[string]*projections.StreamState) ([]projections.Change, error) {
	var changes []projections.Change
	for i, ev := range events {
		var e domain.Event
		if decoded != nil {
			e = decoded[i]
		}
		if e == nil {
			var err error
			if e, err = projections.Decode(ev); err != nil {
				return nil, err
			}
		}
		if w.audit {
			if w.trail == nil {
				w.trail = make([]auditRow, 0, len(events))
			}
			row, err := newAuditRow(ev, e)
			if err != nil {
				return nil, err
			}
			w.trail = append(w.trail, row)
		}
		if !w.views {
			continue
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
		if w.changes {
			changes = append(changes, c)
		}
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
		r.entry = st.Log.Entry(v.ID)
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
	"rm_audit": {cols: auditColumns},
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

// emptied returns the (date, slot) keys of the shifts emptied, as two
// columns.
func (w *writer) emptied() (dates, slots []string) {
	for k, sh := range w.shifts {
		if sh == nil {
			dates, slots = append(dates, k[0]), append(slots, k[1])
		}
	}
	return dates, slots
}

// bases lists the tables the writer writes.
func (w *writer) bases() []string {
	out := w.viewBases()
	if w.audit {
		out = append(out, auditTables...)
	}
	return out
}

// viewBases lists the view tables the writer writes.
func (w *writer) viewBases() []string {
	if w.views {
		return slices.Clone(viewTables)
	}
	return nil
}

// writeRows writes what was recorded for base to s, row by row, in the
// columns of specs[base].
func (w *writer) writeRows(base string, s rowSink) error {
	var buf []byte // JSON, reused row after row: a sink is done with a value when the next row starts
	switch base {
	case "rm_audit":
		for i := range w.trail {
			if err := w.trail[i].write(s); err != nil {
				return err
			}
		}
	case "rm_streams":
		for id, st := range w.states {
			var err error
			if buf, err = appendState(buf[:0], st); err != nil {
				return fmt.Errorf("state of %s: %w", id, err)
			}
			s.text(id)
			s.json(buf)
			if err := s.end(); err != nil {
				return err
			}
		}
	case "rm_alerts":
		for id, v := range w.alerts {
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("alert %s: %w", id, err)
			}
			s.text(id)
			s.text(v.Status)
			s.text(v.Level)
			s.text(v.Hazard)
			s.text(v.Title)
			s.time(v.DeclaredAt)
			s.int64(int64(v.Version))
			s.text(v.UpdatedBy)
			s.json(raw)
			if err := s.end(); err != nil {
				return err
			}
		}
	case "rm_shifts":
		for k, sh := range w.shifts {
			if sh == nil {
				continue
			}
			raw, err := json.Marshal(sh)
			if err != nil {
				return fmt.Errorf("shift %s/%s: %w", k[0], k[1], err)
			}
			s.text(k[0])
			s.text(k[1])
			s.text(sh.Start)
			s.text(sh.Lead)
			s.int32(int32(sh.Version))
			s.json(raw)
			if err := s.end(); err != nil {
				return err
			}
		}
	case "rm_log":
		for k, r := range w.log {
			c, p, err := columns(r.seq)
			if err != nil {
				return err
			}
			if buf, err = appendLogEntry(buf[:0], r.entry); err != nil {
				return fmt.Errorf("log entry %s: %w", k[1], err)
			}
			s.text(k[0])
			s.text(k[1])
			s.int64(c)
			s.int64(p)
			s.text(string(r.entry.Category))
			s.int32(int32(r.entry.Version))
			s.json(buf)
			if err := s.end(); err != nil {
				return err
			}
		}
	case "rm_informes":
		for date, h := range w.informes {
			raw, err := json.Marshal(h)
			if err != nil {
				return fmt.Errorf("informe %s: %w", date, err)
			}
			s.text(date)
			s.text(h.Number)
			s.text(h.Title)
			s.json(raw)
			if err := s.end(); err != nil {
				return err
			}
		}
	case "rm_users":
		for id, r := range w.users {
			c, p, err := columns(r.last)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(r.view)
			if err != nil {
				return fmt.Errorf("user %s: %w", id, err)
			}
			s.text(id)
			s.text(r.view.Username)
			s.text(r.view.Role)
			s.bool(r.view.Disabled)
			s.text(r.view.PasswordHash)
			s.int64(c)
			s.int64(p)
			s.json(raw)
			if err := s.end(); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no table %s", base)
	}
	return nil
}

// batch returns the statements that write everything recorded over what
// the tables hold: one upsert per table, rows passed as arrays.
func (w *writer) batch() (*pgx.Batch, error) {
	b := &pgx.Batch{}
	if dates, slots := w.emptied(); len(dates) > 0 {
		b.Queue(`DELETE FROM `+w.t.shifts+` s USING unnest($1::text[], $2::text[]) AS u(date, slot)
			WHERE s.date = u.date AND s.slot = u.slot`, dates, slots)
	}
	for _, base := range w.bases() {
		cs := newColumnSink(specs[base].cols)
		if err := w.writeRows(base, cs); err != nil {
			return nil, err
		}
		if cs.len() > 0 {
			b.Queue(upsertSQL(w.t.name(base), specs[base]), cs.cols...)
		}
	}
	return b, nil
}

// copy writes everything recorded into tables that hold none of it yet
// (a rebuild's fresh tables), with COPY.
func (w *writer) copy(ctx context.Context, tx pgx.Tx) error {
	for _, base := range w.bases() {
		if err := w.copyTable(ctx, tx, base); err != nil {
			return err
		}
	}
	return nil
}

// copyTable copies what was recorded for base into its table, if
// anything.
func (w *writer) copyTable(ctx context.Context, tx pgx.Tx, base string) error {
	if w.recorded(base) == 0 {
		return nil
	}
	return copyBinary(ctx, tx, w.t.name(base), specs[base].cols, func(s rowSink) error { return w.writeRows(base, s) })
}

// recorded is how many rows were recorded for base (for rm_shifts,
// emptied slots included).
func (w *writer) recorded(base string) int {
	switch base {
	case "rm_audit":
		return len(w.trail)
	case "rm_streams":
		return len(w.states)
	case "rm_alerts":
		return len(w.alerts)
	case "rm_shifts":
		return len(w.shifts)
	case "rm_log":
		return len(w.log)
	case "rm_informes":
		return len(w.informes)
	case "rm_users":
		return len(w.users)
	}
	return 0
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
