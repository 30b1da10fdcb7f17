package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/pg/pgmigrate"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testgen"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// TestAuditSameAsMemory: after a scripted sequence of edits by three
// people, the Postgres read model's audit records are the in-memory
// model's, summary and field-level diff included, applied live and after
// each kind of rebuild.
func TestAuditSameAsMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	l := &auditLog{T: t, At: at}
	a := domain.AlertStream("a1")
	day := domain.RosterStream("2026-01-15")
	log := domain.LogStream("2026-01-15")
	l.Add(domain.UserStream("u9"), "admin", &domain.UserCreated{UserID: "u9", Username: "carla", DisplayName: "Carla", Role: "operator", PasswordHash: "$argon2id$secreto", At: at})
	l.Add(a, "ana", &domain.AlertDeclared{AlertID: "a1", Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Provincias: []string{"056"}, Title: "Marejadas anormales en todo el borde costero de la región", At: at})
	l.Add(a, "beto", &domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: at})
	l.Add(day, "carla", &domain.ShiftAssigned{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", At: at})
	l.Add(log, "ana", &domain.LogEntryAdded{EntryID: "e1", Date: "2026-01-15", Category: domain.CategoryNovedad, Text: "Se activa el COE", By: "ana", At: at})
	l.Add(day, "beto", &domain.ShiftAssigned{Date: "2026-01-15", Slot: "noche", Start: "20:00", End: "08:00", Lead: "Beto", At: at})
	l.Add(log, "beto", &domain.LogEntryAdded{EntryID: "e2", Date: "2026-01-15", Category: domain.CategoryNovedad, Text: "Corte de ruta", By: "beto", At: at})
	l.Add(day, "carla", &domain.ShiftAssigned{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Carla", Operators: []string{"Pablo"}, At: at})
	l.Add(log, "carla", &domain.LogEntryCorrected{EntryID: "e1", Category: domain.CategoryCoordinacion, Text: "Se activa el COE regional", Reason: "precisión", By: "carla", At: at})
	l.Add(a, "carla", &domain.AlertDetailsUpdated{Title: "Marejadas", Description: "Aviso SHOA", At: at})
	l.Add(domain.InformeStream("2026-01-15"), "ana", &domain.InformeReceived{InformeHeader: domain.InformeHeader{Date: "2026-01-15", Number: "12", Title: "Informe", IssuedAt: at}, At: at})
	l.Add(day, "beto", &domain.ShiftUnassigned{Date: "2026-01-15", Slot: "dia", At: at})
	l.Add(domain.UserStream("u9"), "admin", &domain.UserPasswordChanged{PasswordHash: "$argon2id$otro", At: at})
	l.Add(a, "carla", &domain.AlertCancelled{Reason: "mar en calma", At: at})

	store := storeOf(t, l.Events)
	evs := readAllEvents(t, store)
	mem := memory.New()
	if _, err := mem.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	pg := openModel(t, pgDSN(t))
	for i := 0; i < len(evs); i += 3 {
		if _, err := pg.Apply(ctx, evs[i:min(i+3, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	want, err := mem.Audit(ctx, projections.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The records say what happened (the memory model's own test checks
	// the wording; here, that there is something to compare).
	if len(want) != len(l.Events) || want[2].Summary != "beto cambió el nivel de la alerta «Marejadas anormales en todo el borde co…» de amarilla a roja" ||
		want[8].Diff["text"] != (projections.FieldChange{Before: "Se activa el COE", After: "Se activa el COE regional"}) ||
		want[7].Diff["lead"] != (projections.FieldChange{Before: "Ana", After: "Carla"}) {
		t.Fatalf("memory records: %s", jsonOf(t, want))
	}
	check := func(when string) {
		t.Helper()
		got, err := pg.Audit(ctx, projections.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Fatalf("%s: got\n%s\nwant\n%s", when, g, w)
		}
		// Newest first, a page at a time, filtered: each page is memory's.
		for _, q := range []projections.AuditQuery{
			{Newest: true, Limit: 4}, {Actor: "carla", Newest: true, Limit: 2}, {Stream: day, Limit: 2}, {Stream: domain.LogPrefix, Newest: true},
		} {
			for {
				g, err := pg.Audit(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				w, _ := mem.Audit(ctx, q)
				if jsonOf(t, g) != jsonOf(t, w) {
					t.Fatalf("%s: %+v: got\n%s\nwant\n%s", when, q, jsonOf(t, g), jsonOf(t, w))
				}
				if len(g) < q.Limit || q.Limit == 0 {
					break
				}
				if q.Newest {
					q.Before = g[len(g)-1].Position
				} else {
					q.After = g[len(g)-1].Position
				}
			}
		}
	}
	check("applied")
	for _, name := range RebuildNames {
		if _, err := pg.Rebuild(ctx, store, RebuildOptions{Name: name, BatchSize: 5}); err != nil {
			t.Fatal(err)
		}
		check("rebuilt " + name)
	}
	// A row holding an event this build cannot decode (a newer hub of the
	// fleet wrote it, mid-rollout) leaves that record unexplained, and the
	// rest of the page as it was.
	if _, err := pg.pool.Exec(ctx, `INSERT INTO rm_audit (commit_position, prepare_position, stream, type, version, actor_id, actor_username,
		actor_role, recorded_at, correlation_id, row_key, schema, data, recorded_nanos) VALUES (1000, 1000, $1, 'alert.teleported', 99, 'x', 'ana', 'operator', now(), 'req', '', 1, '{}', 0)`, a); err != nil {
		t.Fatal(err)
	}
	got, err := pg.Audit(ctx, projections.AuditQuery{Stream: a})
	if err != nil {
		t.Fatal(err)
	}
	wantA, _ := mem.Audit(ctx, projections.AuditQuery{Stream: a})
	if len(got) != len(wantA)+1 || got[len(got)-1].Type != "alert.teleported" || got[len(got)-1].Summary != "" || got[len(got)-1].Diff != nil ||
		jsonOf(t, got[:len(wantA)]) != jsonOf(t, wantA) {
		t.Fatalf("with an event this build cannot decode: got %s", jsonOf(t, got))
	}

	// The index keeps no password hash.
	var hashes int
	if err := pg.pool.QueryRow(ctx, `SELECT count(*) FROM rm_audit WHERE data::text LIKE '%argon2id%'`).Scan(&hashes); err != nil || hashes != 0 {
		t.Fatalf("%d audit rows hold a password hash (%v)", hashes, err)
	}
}

// TestAuditOfARowKeptBeforeMigration0002: a read model filled before
// migration 0002 (no summaries, no diffs) migrates in place; its records
// stay, without summary or diff, as do later records of streams that
// began before it (their histories are incomplete), while streams begun
// after it are explained; `hub projections rebuild audit` then explains
// them all, exactly as the in-memory model does.
func TestAuditOfARowKeptBeforeMigration0002(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	w := newWorkload(store, 3)
	w.run(t, ctx, 200)
	first := readAllEvents(t, store)

	// The old schema, filled: migration 0001 only, and the rows a model
	// of today writes, less the columns 0002 added.
	oldDSN := pgDSN(t)
	pool, err := pgxpool.New(ctx, oldDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	v1, err := migrationFS.ReadFile("migrations/0001_readmodel.sql")
	if err != nil {
		t.Fatal(err)
	}
	set := pgmigrate.Set{FS: fstest.MapFS{"migrations/0001_readmodel.sql": {Data: v1}}, Dir: "migrations", Table: "rm_schema_migrations", LockKey: "vigia/readmodel/migrate/"}
	if err := set.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cur := openModel(t, pgDSN(t))
	if _, err := cur.Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	var oldSchema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&oldSchema); err != nil {
		t.Fatal(err)
	}
	from, to := pgx.Identifier{cur.schema}.Sanitize(), pgx.Identifier{oldSchema}.Sanitize()
	for _, table := range []string{"rm_checkpoint", "rm_streams", "rm_alerts", "rm_shifts", "rm_log", "rm_informes", "rm_users"} {
		if _, err := pool.Exec(ctx, `DELETE FROM `+to+`.`+table+`; INSERT INTO `+to+`.`+table+` SELECT * FROM `+from+`.`+table); err != nil {
			t.Fatal(err)
		}
	}
	cols := `commit_position, prepare_position, stream, type, version, actor_id, actor_username, actor_role, recorded_at, correlation_id`
	if _, err := pool.Exec(ctx, `INSERT INTO `+to+`.rm_audit (`+cols+`) SELECT `+cols+` FROM `+from+`.rm_audit`); err != nil {
		t.Fatal(err)
	}

	m := openModel(t, oldDSN) // migrates the filled tables
	mem := memory.New()
	if _, err := mem.Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := auditAll(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := auditAll(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		// Such a row kept whole microseconds only.
		w := want[i]
		w.Summary, w.Diff, w.RecordedAt = "", nil, w.RecordedAt.Truncate(time.Microsecond)
		if g, w := jsonOf(t, got[i]), jsonOf(t, w); g != w {
			t.Fatalf("record %d: got %s, want %s", i, g, w)
		}
	}

	old := map[string]bool{}
	for _, ev := range first {
		old[ev.Stream] = true
	}
	w.run(t, ctx, 200)
	more := readAllEvents(t, store)[len(first):]
	if _, err := mem.Apply(ctx, more); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, more); err != nil {
		t.Fatal(err)
	}
	got, _ = auditAll(ctx, m)
	want, _ = auditAll(ctx, mem)
	explained, unexplained := 0, 0
	for i := len(first); i < len(want); i++ {
		if old[want[i].Stream] {
			unexplained++
			w := want[i]
			w.Summary, w.Diff = "", nil
			if g, w := jsonOf(t, got[i]), jsonOf(t, w); g != w {
				t.Fatalf("record %d of a stream begun before 0002: got %s, want %s", i, g, w)
			}
			continue
		}
		explained++
		if g, w := jsonOf(t, got[i]), jsonOf(t, want[i]); g != w || want[i].Summary == "" {
			t.Fatalf("record %d of a stream begun after 0002: got %s, want %s", i, g, w)
		}
	}
	if explained == 0 || unexplained == 0 {
		t.Fatalf("%d records explained, %d not: the workload should give both", explained, unexplained)
	}

	if _, err := m.Rebuild(ctx, store, RebuildOptions{Name: "audit"}); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, mem, m)
}

// storeOf is an embedded store holding events, in order (the store gives
// them its own positions and times).
func storeOf(tb testing.TB, events []eventstore.Event) eventstore.Store {
	tb.Helper()
	s := newStore(tb)
	for _, ev := range events {
		if _, err := s.Append(context.Background(), ev.Stream, eventstore.Any, eventstore.EventData{
			ID: eventstore.NewEventID(), Type: ev.Type, Schema: ev.Schema, Data: ev.Data, Actor: ev.Actor, CorrelationID: ev.CorrelationID,
		}); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// auditLog builds a script of recorded events by the given actors.
type auditLog = testgen.EventLog

// TestAuditPagesPastOneThousand: issue 14 item 6 on both read models. A
// query for a full page plus one (as the web layer asks, to know whether
// another page follows) gets MaxAuditPage+1 records, so 2,500 records
// page as 1000, 1000, 500 with no record twice or missing.
func TestAuditPagesPastOneThousand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 2500
	l := &auditLog{T: t, At: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}
	for i := range n {
		l.Add(domain.LogStream("2026-01-15"), "ana", &domain.LogEntryAdded{EntryID: fmt.Sprint("e", i), Date: "2026-01-15",
			Category: domain.CategoryNovedad, Text: fmt.Sprint("novedad ", i), By: "ana", At: l.At})
	}
	mem := memory.New()
	if _, err := mem.Apply(ctx, l.Events); err != nil {
		t.Fatal(err)
	}
	pg := openModel(t, pgDSN(t))
	for i := 0; i < n; i += 500 {
		if _, err := pg.Apply(ctx, l.Events[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	for name, r := range map[string]reads{"memory": mem, "postgres": pg} {
		for _, newest := range []bool{true, false} {
			q := projections.AuditQuery{Newest: newest}
			seen := map[eventstore.Position]bool{}
			var sizes []int
			for len(sizes) < 5 {
				q.Limit = projections.MaxAuditPage + 1
				recs, err := r.Audit(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				page := recs[:min(len(recs), projections.MaxAuditPage)]
				sizes = append(sizes, len(page))
				for _, rec := range page {
					if seen[rec.Position] {
						t.Fatalf("%s newest=%v: %v twice", name, newest, rec.Position)
					}
					seen[rec.Position] = true
				}
				if len(recs) <= projections.MaxAuditPage {
					break
				}
				if newest {
					q.Before = page[len(page)-1].Position
				} else {
					q.After = page[len(page)-1].Position
				}
			}
			if fmt.Sprint(sizes) != "[1000 1000 500]" || len(seen) != n {
				t.Fatalf("%s newest=%v: got pages %v and %d records, want [1000 1000 500] and %d", name, newest, sizes, len(seen), n)
			}
		}
	}
}
