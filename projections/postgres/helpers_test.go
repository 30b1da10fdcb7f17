package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testgen"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// newStore returns an embedded event store in a temporary directory.
func newStore(tb testing.TB) eventstore.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "events.db"), sqlite.WithPollInterval(50*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// openModel opens a read model on dsn, closed when the test ends.
func openModel(tb testing.TB, dsn string, opts ...Option) *ReadModel {
	tb.Helper()
	m, err := Open(context.Background(), dsn, append([]Option{WithLeasePoll(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

func testLog(tb testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel)
}

// workload issues a random-ish but reproducible sequence of commands
// through the command path: users, alerts declared, edited and cancelled,
// shifts assigned and emptied, log entries added and corrected, informes.
// Commands the domain refuses (an overlapping shift, an edit of a
// cancelled alert) are part of the mix and simply append nothing.
type workload struct {
	cmds *command.Handler

	mu      sync.Mutex
	rng     *rand.Rand
	clock   time.Time
	n       int
	alerts  []string
	entries map[string][]string // date → entry IDs
	users   []string
	dates   map[string]bool
}

var (
	testDates  = []string{"2026-01-14", "2026-01-15", "2026-01-16"}
	testSlots  = []string{"am", "pm", "noche", "jefe-turno"}
	testHours  = [][2]string{{"08:00", "20:00"}, {"20:00", "08:00"}, {"07:00", "15:00"}, {"15:00", "23:00"}}
	testPeople = []string{"Ana Rojas", "Bruno Díaz", "Carla Soto", "Diego Paz", "Elena Mora"}
	testActors = []eventstore.Actor{{ID: "u1", Username: "ana", Role: "operator"}, {ID: "u2", Username: "beto", Role: "supervisor"}, {ID: "ingest:imap", Username: "ingest:imap", Role: "system"}}
)

func newWorkload(store eventstore.Store, seed uint64) *workload {
	w := &workload{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		clock:   time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC),
		entries: map[string][]string{},
		dates:   map[string]bool{},
	}
	w.cmds = command.New(store, command.WithClock(w.now))
	return w
}

// now advances the clock by a little over a second, nanoseconds included,
// so the read models must keep times exactly.
func (w *workload) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clock = w.clock.Add(time.Second + time.Duration(w.rng.IntN(1e9)))
	return w.clock
}

func (w *workload) pick(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.IntN(n)
}

// run issues n commands; it fails the test on anything but a refusal by
// the domain.
func (w *workload) run(tb testing.TB, ctx context.Context, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if err := w.step(ctx); err != nil {
			tb.Fatal(err)
		}
	}
}

// step issues one command.
func (w *workload) step(ctx context.Context) error {
	w.mu.Lock()
	w.n++
	seq := w.n
	w.mu.Unlock()
	meta := command.Meta{Actor: testActors[w.pick(len(testActors))], CorrelationID: fmt.Sprintf("req-%d", seq)}
	date := testDates[w.pick(len(testDates))]
	exec := func(stream string, c domain.Command) error {
		_, err := w.cmds.Execute(ctx, stream, meta, nil, command.Command(c))
		return refused(err)
	}
	w.mu.Lock()
	nAlerts, nUsers, nEntries := len(w.alerts), len(w.users), len(w.entries[date])
	w.dates[date] = true
	w.mu.Unlock()
	switch k := w.pick(20); {
	case k == 0 || nUsers == 0:
		name := fmt.Sprintf("user%02d", seq)
		if _, err := w.cmds.CreateUser(ctx, meta, name, "Usuaria "+name, domain.Roles[w.pick(len(domain.Roles))], "hash-"+name); refused(err) != nil {
			return err
		}
		w.mu.Lock()
		w.users = append(w.users, command.UserID(name))
		w.mu.Unlock()
		return nil
	case k == 1:
		id := w.users[w.pick(nUsers)]
		switch w.pick(3) {
		case 0:
			return exec(domain.UserStream(id), domain.ChangeUserRole{Role: domain.Roles[w.pick(len(domain.Roles))], At: w.now()})
		case 1:
			return exec(domain.UserStream(id), domain.ChangeUserPassword{PasswordHash: fmt.Sprintf("hash-%d", seq), At: w.now()})
		}
		return exec(domain.UserStream(id), domain.DisableUser{Reason: "baja", At: w.now()})
	case k <= 4 || nAlerts == 0:
		id := fmt.Sprintf("a%04d", seq)
		w.mu.Lock()
		w.alerts = append(w.alerts, id)
		w.mu.Unlock()
		return exec(domain.AlertStream(id), domain.DeclareAlert{ID: id, Hazard: domain.Hazards()[w.pick(len(domain.Hazards()))],
			Level: domain.Levels[w.pick(3)], Scope: w.scope(), Title: fmt.Sprintf("Alerta %d", seq), Description: "Descripción", At: w.now()})
	case k <= 7:
		id := w.alerts[w.pick(nAlerts)]
		level := domain.Levels[w.pick(3)]
		title := fmt.Sprintf("Alerta %d editada", seq)
		edit := domain.EditAlert{Level: &level, Reason: "evolución", At: w.now()}
		if w.pick(2) == 0 {
			edit.Title = &title
		}
		if w.pick(3) == 0 {
			sc := w.scope()
			edit.Region, edit.Provincias, edit.Comunas = &sc.Region, &sc.Provincias, &sc.Comunas
		}
		return exec(domain.AlertStream(id), edit)
	case k == 8:
		return exec(domain.AlertStream(w.alerts[w.pick(nAlerts)]), domain.CancelAlert{Reason: "condiciones superadas", At: w.now()})
	case k <= 11:
		i := w.pick(len(testSlots))
		if w.pick(5) == 0 {
			return exec(domain.RosterStream(date), domain.UnassignShift{Date: date, Slot: testSlots[i], At: w.now()})
		}
		ops := []string{}
		for j := w.pick(3); j > 0; j-- {
			ops = append(ops, testPeople[w.pick(len(testPeople))])
		}
		return exec(domain.RosterStream(date), domain.AssignShift{Date: date, Slot: testSlots[i], Start: testHours[i][0], End: testHours[i][1],
			Lead: testPeople[w.pick(len(testPeople))], Operators: ops, At: w.now()})
	case k <= 16 || nEntries == 0:
		id := fmt.Sprintf("e%05d", seq)
		c := domain.AddLogEntry{EntryID: id, Date: date, Category: domain.Categories[w.pick(len(domain.Categories))], Text: fmt.Sprintf("Novedad %d", seq), By: meta.Actor.Username, At: w.now()}
		if w.pick(2) == 0 {
			c.Comunas = []string{w.comuna()}
		}
		w.mu.Lock()
		w.entries[date] = append(w.entries[date], id)
		w.mu.Unlock()
		return exec(domain.LogStream(date), c)
	case k <= 18:
		w.mu.Lock()
		id := w.entries[date][w.rng.IntN(nEntries)]
		w.mu.Unlock()
		return exec(domain.LogStream(date), domain.CorrectLogEntry{EntryID: id, Text: fmt.Sprintf("Novedad corregida %d", seq), Reason: "error de tipeo", By: meta.Actor.Username, At: w.now()})
	}
	return exec(domain.InformeStream(date), domain.ReceiveInforme{Header: domain.InformeHeader{Date: date, Number: fmt.Sprint(seq), Title: "Informe diario", Source: "correo", IssuedAt: w.now(), Summary: "Sin novedades mayores"}, At: w.now()})
}

// meta is the actor of a test's own commands.
func (w *workload) meta() command.Meta {
	return command.Meta{Actor: testActors[0], CorrelationID: "test"}
}

// addEntry builds an AddLogEntry with a fresh ID.
func (w *workload) addEntry(date, text string) func(command.Loaded) (domain.Command, error) {
	w.mu.Lock()
	w.n++
	id := fmt.Sprintf("t%05d", w.n)
	w.mu.Unlock()
	return command.Command(domain.AddLogEntry{EntryID: id, Date: date, Text: text, By: "ana", At: w.now()})
}

// refused turns the errors a command may legitimately end with into nil:
// the domain said no, or the stream was too contended (many writers).
func refused(err error) error {
	var re *domain.RuleError
	var ve *domain.ValidationError
	if errors.As(err, &re) || errors.As(err, &ve) || errors.Is(err, domain.ErrNotFound) || errors.Is(err, eventstore.ErrWrongVersion) {
		return nil
	}
	return err
}

func (w *workload) comuna() string { return testgen.Comuna(w.pick) }

func (w *workload) scope() domain.Scope { return testgen.Scope(w.pick) }

// reads is what both read models answer.
type reads interface {
	Alerts(ctx context.Context, status string) ([]projections.AlertView, error)
	Alert(ctx context.Context, id string) (projections.AlertView, bool, error)
	Shifts(ctx context.Context, date string) ([]projections.ShiftView, error)
	Log(ctx context.Context, date string) ([]projections.LogEntryView, error)
	LogEntry(ctx context.Context, id string) (projections.LogEntryView, bool, error)
	Informe(ctx context.Context, date string) (domain.InformeHeader, bool, error)
	UserByName(ctx context.Context, username string) (projections.UserView, bool, error)
	UserByID(ctx context.Context, id string) (projections.UserView, bool, error)
	Users(ctx context.Context) ([]projections.UserView, error)
	Audit(ctx context.Context, q projections.AuditQuery) ([]projections.AuditRecord, error)
}

// auditQueries are the audit queries answers asks; "all" pages through
// every record.
var auditQueries = map[string]projections.AuditQuery{
	"newest":                     {Newest: true, Limit: 40},
	"ana, newest":                {Actor: "ana", Newest: true, Limit: 25},
	"beto, oldest":               {Actor: "beto", Limit: 25},
	"log corrections":            {Stream: domain.LogPrefix, Type: "log.entry_corrected", Newest: true, Limit: 30},
	"alerts, oldest":             {Stream: domain.AlertPrefix, Limit: 60},
	"rosters, newest":            {Stream: domain.RosterPrefix, Newest: true, Limit: 30},
	"users":                      {Stream: domain.UserPrefix, Limit: 50},
	"without users, newest":      {Hide: domain.UserPrefix, Newest: true, Limit: 40},
	"without users, oldest":      {Hide: domain.UserPrefix, Limit: 40},
	"informes, newest, a window": {Stream: domain.InformePrefix, Newest: true, Before: eventstore.Seq(400), Limit: 10},
}

// auditAll pages through every audit record, oldest first, 97 at a time.
func auditAll(ctx context.Context, r reads) ([]projections.AuditRecord, error) {
	var out []projections.AuditRecord
	q := projections.AuditQuery{Limit: 97}
	for {
		page, err := r.Audit(ctx, q)
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		q.After = page[len(page)-1].Position
	}
}

// answers collects every answer a read model gives about the log, keyed
// by the query, as JSON (hashes included) so a difference prints legibly.
func answers(tb testing.TB, r reads) map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := map[string]string{}
	put := func(key string, v any, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("%s: %v", key, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		out[key] = string(b)
	}
	for _, st := range []string{"all", "vigente", "cancelada"} {
		as, err := r.Alerts(ctx, st)
		put("alerts?status="+st, as, err)
		if st == "all" {
			for _, a := range as {
				v, ok, err := r.Alert(ctx, a.ID)
				put("alert/"+a.ID, []any{v, ok}, err)
			}
		}
	}
	v, ok, err := r.Alert(ctx, "missing")
	put("alert/missing", []any{v, ok}, err)
	for _, d := range append(testDates, "2026-02-01") {
		sh, err := r.Shifts(ctx, d)
		put("shifts/"+d, sh, err)
		l, err := r.Log(ctx, d)
		put("log/"+d, l, err)
		for _, e := range l {
			v, ok, err := r.LogEntry(ctx, e.ID)
			put("entry/"+e.ID, []any{v, ok}, err)
		}
		h, ok, err := r.Informe(ctx, d)
		put("informe/"+d, []any{h, ok}, err)
	}
	us, err := r.Users(ctx)
	hashes := make([]string, len(us))
	for i, u := range us {
		hashes[i] = u.PasswordHash
	}
	put("users", []any{us, hashes}, err)
	for _, u := range us {
		a, ok, err := r.UserByName(ctx, " "+u.Username+" ")
		put("user?name="+u.Username, []any{a, a.PasswordHash, ok}, err)
		b, ok, err := r.UserByID(ctx, u.ID)
		put("user/"+u.ID, []any{b, b.PasswordHash, ok}, err)
	}
	all, err := auditAll(ctx, r)
	put("audit", all, err)
	for i, rec := range all {
		// One key per record, so a difference names the record.
		put(fmt.Sprintf("audit/%04d %s", i, rec.Position), rec, nil)
	}
	for name, q := range auditQueries {
		recs, err := r.Audit(ctx, q)
		put("audit?"+name, recs, err)
	}
	// Time windows bounded by records' own times, to the nanosecond: from
	// is inclusive, to exclusive.
	for i := 0; i+30 < len(all); i += 101 {
		from, to := all[i].RecordedAt, all[i+30].RecordedAt
		for _, w := range [][2]time.Time{{from, to}, {from.Add(time.Nanosecond), to.Add(time.Nanosecond)}, {from.Add(-time.Nanosecond), to.Add(-time.Nanosecond)}} {
			recs, err := r.Audit(ctx, projections.AuditQuery{From: w[0], To: w[1]})
			put(fmt.Sprintf("audit?from=%s&to=%s", w[0].Format(time.RFC3339Nano), w[1].Format(time.RFC3339Nano)), recs, err)
		}
	}
	return out
}

// sameAnswers fails when two read models answer anything differently.
func sameAnswers(tb testing.TB, want, got reads) {
	tb.Helper()
	w, g := answers(tb, want), answers(tb, got)
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if w[k] != g[k] {
			bad++
			if bad <= 5 {
				tb.Errorf("%s:\n got %s\nwant %s", k, g[k], w[k])
			}
		}
	}
	if bad > 0 {
		tb.Fatalf("%d of %d answers differ", bad, len(keys))
	}
	if len(w) < 10 {
		tb.Fatalf("only %d answers compared: the workload is too thin", len(w))
	}
}

// foldOf returns a memory read model caught up with store: the fold of
// the log, as the reference.
func foldOf(tb testing.TB, store eventstore.Store) *memory.ReadModel {
	tb.Helper()
	m := memory.New()
	if _, err := projections.NewProjector(store, m, nil, testLog(tb)).CatchUp(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return m
}

// head returns the position of the last event of the log that read
// models project, and how many there are.
func head(tb testing.TB, store eventstore.Store) (eventstore.Position, int) {
	tb.Helper()
	var at eventstore.Position
	n := 0
	for {
		evs, err := store.ReadAll(context.Background(), at, projections.EventFilter(), 1000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(evs) == 0 {
			return at, n
		}
		n += len(evs)
		at = evs[len(evs)-1].Position
	}
}

// exactlyOnce checks that the model applied every event of store once:
// one audit row per event, every position present, the checkpoint at the
// head.
func exactlyOnce(tb testing.TB, dsn string, m *ReadModel, store eventstore.Store) {
	tb.Helper()
	ctx := context.Background()
	at, n := head(tb, store)
	cp, err := m.Checkpoint(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if cp != at {
		tb.Fatalf("checkpoint %s, want the head of the log %s", cp, at)
	}
	var rows, distinct int
	if err := m.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (commit_position, prepare_position)) FROM rm_audit`).Scan(&rows, &distinct); err != nil {
		tb.Fatal(err)
	}
	if rows != n || distinct != n {
		tb.Fatalf("got %d audit rows (%d distinct positions), want one per event (%d)", rows, distinct, n)
	}
	_ = dsn
}

// eventually polls cond until it holds or the bound passes.
func eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgDSN is a fresh schema for the test (skipped loudly without Postgres).
func pgDSN(tb testing.TB) string {
	tb.Helper()
	return testsvc.Postgres(tb)
}
