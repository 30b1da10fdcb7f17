package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// readAllEvents returns every event read models project.
func readAllEvents(tb testing.TB, store eventstore.Store) []eventstore.Event {
	tb.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.Position{}, projections.EventFilter(), 0)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

func changesJSON(tb testing.TB, cs []projections.Change) []string {
	tb.Helper()
	out := make([]string, len(cs))
	for i, c := range cs {
		b, err := json.Marshal(c)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// TestAgreesWithMemory: the same log applied to the in-memory and the
// Postgres read models, the latter in batches of every size, with
// redeliveries, and through a second instance that starts with no cached
// state, gives the same change notices and the same answer to every query;
// a rebuild changes none of them.
func TestAgreesWithMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	store := newStore(t)
	w := newWorkload(store, 1)
	w.run(t, ctx, 500)
	evs := readAllEvents(t, store)

	mem := memory.New()
	want, err := mem.Apply(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	pg := openModel(t, dsn)
	rng := rand.New(rand.NewPCG(7, 7))
	var got []projections.Change
	for i := 0; i < len(evs); {
		// Sometimes redeliver some events already applied, as a
		// resubscribing projector would.
		from := max(0, i-rng.IntN(3)*rng.IntN(5))
		to := min(len(evs), i+1+rng.IntN(40))
		cs, err := pg.Apply(ctx, evs[from:to])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cs...)
		i = to
	}
	if w, g := changesJSON(t, want), changesJSON(t, got); strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("got %d change notices, want %d, or they differ", len(g), len(w))
	}
	sameAnswers(t, mem, pg)
	exactlyOnce(t, dsn, pg, store)

	// A second instance (no cache) folds on from the stored states.
	w.run(t, ctx, 150)
	more := readAllEvents(t, store)[len(evs):]
	other := openModel(t, dsn)
	if _, err := mem.Apply(ctx, more); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(more); i += 25 {
		if _, err := other.Apply(ctx, more[i:min(len(more), i+25)]); err != nil {
			t.Fatal(err)
		}
	}
	sameAnswers(t, mem, pg)
	exactlyOnce(t, dsn, pg, store)

	before := indexList(t, pg)
	for _, name := range RebuildNames {
		res, err := pg.Rebuild(ctx, store, RebuildOptions{Name: name, BatchSize: 100})
		if err != nil {
			t.Fatalf("rebuild %s: %v", name, err)
		}
		sameAnswers(t, mem, pg)
		exactlyOnce(t, dsn, pg, store)
		if after := indexList(t, pg); strings.Join(after, ",") != strings.Join(before, ",") {
			t.Fatalf("after rebuilding %s, indexes are\n%v\nwant\n%v", name, after, before)
		}
		if res.Generation == 0 {
			t.Fatalf("rebuild %s: generation not bumped", name)
		}
	}
	// The first instance's cache is stale after the swaps; it must notice.
	w.run(t, ctx, 100)
	rest := readAllEvents(t, store)[len(evs)+len(more):]
	if _, err := mem.Apply(ctx, rest); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Apply(ctx, rest); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, mem, other)
	exactlyOnce(t, dsn, pg, store)
}

// indexList names the indexes of the rm_ tables with their definitions.
func indexList(tb testing.TB, m *ReadModel) []string {
	tb.Helper()
	rows, err := m.pool.Query(context.Background(), `SELECT indexname || ' ' || tablename FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename LIKE 'rm\_%'`)
	if err != nil {
		tb.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestOpenMigratesOnce: instances opening together apply the migrations
// once, and a reopened schema is left alone.
func TestOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	dsn := pgDSN(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			m, err := Open(context.Background(), dsn)
			if err == nil {
				_ = m.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	m := openModel(t, dsn)
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	var n int
	if err := m.pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("got %d migrations recorded (%v), want %d", n, err, len(files))
	}
	if _, err := m.pool.Exec(context.Background(), `INSERT INTO rm_schema_migrations (version, name) VALUES (99, 'future')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v, want a refusal of a newer schema", err)
	}
}

// TestRebuildRefusesAnUnknownNameAndASecondRebuild: names are checked, and
// two rebuilds of one schema never run together.
func TestRebuildRefusesAnUnknownNameAndASecondRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	m := openModel(t, dsn)
	store := newStore(t)
	if _, err := m.Rebuild(ctx, store, RebuildOptions{Name: "alertas"}); err == nil {
		t.Fatal("an unknown name was accepted")
	}
	conn, err := m.connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, m.buildKey); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rebuild(ctx, store, RebuildOptions{}); !errors.Is(err, ErrRebuildRunning) {
		t.Fatalf("got %v, want ErrRebuildRunning", err)
	}
}

// TestAuditIndex: the audit index answers who did what, filtered and in
// pages, one record per event.
func TestAuditIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	newWorkload(store, 8).run(t, ctx, 120)
	evs := readAllEvents(t, store)
	m := openModel(t, pgDSN(t))
	if _, err := m.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	byAna := 0
	for _, ev := range evs {
		if ev.Actor.Username == "ana" && strings.HasPrefix(ev.Stream, "log-") {
			byAna++
		}
	}
	var got []AuditRecord
	q := AuditQuery{Actor: "ana", Limit: 7}
	for {
		page, err := m.Audit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if strings.HasPrefix(r.Stream, "log-") {
				got = append(got, r)
			}
			if r.Actor.Username != "ana" || r.CorrelationID == "" || r.RecordedAt.IsZero() {
				t.Fatalf("got %+v", r)
			}
		}
		q.After = page[len(page)-1].Position
	}
	if len(got) != byAna || byAna == 0 {
		t.Fatalf("got %d log records by ana, want %d", len(got), byAna)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Position.Compare(got[i-1].Position) <= 0 {
			t.Fatal("records out of order")
		}
	}
	typed, err := m.Audit(ctx, AuditQuery{Type: "alert.declared", Stream: evs[len(evs)-1].Stream, To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range typed {
		if r.Type != "alert.declared" || r.Stream != evs[len(evs)-1].Stream {
			t.Fatalf("got %+v", r)
		}
	}
}
