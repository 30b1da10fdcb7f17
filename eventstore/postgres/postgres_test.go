package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/storetest"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// deadline bounds every wait, so that a broken store fails instead of
// hanging; a correct one never gets near it.
const deadline = 30 * time.Second

// openDSN opens a Store on dsn, named application name (visible in
// pg_stat_activity) when name is not empty, and closes it when the test
// ends.
func openDSN(tb testing.TB, dsn, name string, opts ...Option) *Store {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse dsn: %v", err)
	}
	if name != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = name
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	s, err := open(context.Background(), pool, opts)
	if err != nil {
		pool.Close()
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func newStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	return openDSN(tb, testsvc.Postgres(tb), "", opts...)
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) eventstore.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) eventstore.Store { return newStore(tb) })
}

func event(kind string) eventstore.EventData {
	return eventstore.EventData{
		ID:     eventstore.NewEventID(),
		Type:   "test." + kind,
		Schema: 1,
		Data:   json.RawMessage(`{"kind":"` + kind + `"}`),
		Actor:  eventstore.Actor{ID: "t", Username: "t", Role: "system"},
	}
}

func admin(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func receiveUntil(t *testing.T, sub eventstore.Subscription, last uuid.UUID) []uuid.UUID {
	t.Helper()
	timeout := time.NewTimer(deadline)
	defer timeout.Stop()
	var got []uuid.UUID
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %v: %v", got, sub.Err())
			}
			got = append(got, e.ID)
			if e.ID == last {
				return got
			}
		case <-timeout.C:
			t.Fatalf("received %v and not %s within %v", got, last, deadline)
		}
	}
}

func wantSeq(t *testing.T, what string, got []uuid.UUID, want ...uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// The sequence-gap scenario: append A takes the lower position and holds
// its transaction open before COMMIT; append B, from another instance,
// starts meanwhile. With a plain sequence B would commit first with the
// higher position and a reader could move past A for good. Here B cannot
// even allocate until A commits (it is seen waiting on A's lock), nothing is
// visible while A is open, and afterwards readers and subscribers, old and
// new, get A then B exactly once.
func TestAConcurrentAppendCannotCommitAheadOfALowerPosition(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	a := openDSN(t, dsn, "")
	bName := "vigia-test-b-" + uuid.NewString()[:8]
	b := openDSN(t, dsn, bName)
	reader := openDSN(t, dsn, "")
	ctx := t.Context()

	before, err := reader.Subscribe(ctx, eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer before.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	unblock := func() { released.Do(func() { close(release) }) }
	t.Cleanup(unblock) // a failing test must not leave A holding its connection
	a.beforeCommit = func(context.Context) error {
		once.Do(func() {
			close(entered)
			<-release
		})
		return nil
	}
	evA, evB := event("a"), event("b")
	type result struct {
		res eventstore.AppendResult
		err error
	}
	doneA, doneB := make(chan result, 1), make(chan result, 1)
	go func() {
		r, err := a.Append(ctx, "alert-a", eventstore.NoStream, evA)
		doneA <- result{r, err}
	}()
	select {
	case <-entered:
	case <-time.After(deadline):
		t.Fatal("append A never reached its commit")
	}
	go func() {
		r, err := b.Append(ctx, "alert-b", eventstore.NoStream, evB)
		doneB <- result{r, err}
	}()

	// B is blocked behind A's lock on the head of the log.
	conn := admin(t, dsn)
	waiting := false
	for stop := time.Now().Add(deadline); !waiting && time.Now().Before(stop); {
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock')`, bName).Scan(&waiting); err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if !waiting {
			select {
			case r := <-doneB:
				t.Fatalf("append B returned (%+v, %v) while A held the lower position uncommitted", r.res, r.err)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	if !waiting {
		t.Fatal("append B was never seen waiting for A")
	}
	if evs, err := reader.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 0); err != nil || len(evs) != 0 {
		t.Fatalf("while A is open, ReadAll = %d events, %v; want none", len(evs), err)
	}
	during, err := reader.Subscribe(ctx, eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer during.Close()

	unblock()
	ra, rb := <-doneA, <-doneB
	if ra.err != nil || rb.err != nil {
		t.Fatalf("appends: A %v, B %v", ra.err, rb.err)
	}
	if ra.res.Position.Compare(rb.res.Position) >= 0 {
		t.Fatalf("A at %s, B at %s; want A first", ra.res.Position, rb.res.Position)
	}
	all, err := reader.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	ids := make([]uuid.UUID, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	wantSeq(t, "ReadAll", ids, evA.ID, evB.ID)
	end := event("end")
	if _, err := a.Append(ctx, "alert-end", eventstore.NoStream, end); err != nil {
		t.Fatalf("append: %v", err)
	}
	wantSeq(t, "subscriber from before", receiveUntil(t, before, end.ID), evA.ID, evB.ID, end.ID)
	wantSeq(t, "subscriber from during", receiveUntil(t, during, end.ID), evA.ID, evB.ID, end.ID)
}

// An append that rolls back after taking its positions gives them back:
// the next append takes them, and the log has no hole.
func TestARolledBackAppendLeavesNoHole(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	boom := errors.New("boom")
	var once sync.Once
	s.beforeCommit = func(context.Context) error {
		var err error
		once.Do(func() { err = boom })
		return err
	}
	if _, err := s.Append(t.Context(), "alert-1", eventstore.Any, event("lost"), event("lost")); !errors.Is(err, boom) {
		t.Fatalf("append: %v, want boom", err)
	}
	kept := event("kept")
	r, err := s.Append(t.Context(), "alert-1", eventstore.NoStream, kept)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if r.Position != eventstore.Seq(1) || r.Revision != 0 {
		t.Errorf("append after a rollback: %+v, want revision 0 at position 1", r)
	}
	all, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(all) != 1 || all[0].ID != kept.ID {
		t.Errorf("read all: %+v, %v; want only the kept event", all, err)
	}
}

func TestOpenMigratesOnceWhenInstancesStartTogether(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	const instances = 4
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for range instances {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("open: %v", err)
		}
	}
	ms, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v %v", ms, err)
	}
	conn := admin(t, dsn)
	var applied, heads int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM es_schema_migrations`).Scan(&applied); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM es_head`).Scan(&heads); err != nil {
		t.Fatalf("count heads: %v", err)
	}
	if applied != len(ms) || heads != 1 {
		t.Errorf("%d migrations recorded and %d head rows, want %d and 1", applied, heads, len(ms))
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := admin(t, dsn).Exec(t.Context(), `INSERT INTO es_schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if s, err := Open(t.Context(), dsn); err == nil {
		_ = s.Close()
		t.Fatal("opened a schema at version 999, want an error")
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	s, err := Open(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=5")
	if err == nil {
		_ = s.Close()
		t.Fatal("opened a store with nothing listening")
	}
	if !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("open: %v, want ErrUnavailable", err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"refused dial", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"cancelled", fmt.Errorf("query: %w", context.Canceled), false},
		{"deadline", context.DeadlineExceeded, false},
		{"other", errors.New("other"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := errors.Is(classify(c.err), eventstore.ErrUnavailable); got != c.want {
				t.Errorf("classify(%v) is unavailable: %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestClockStampsRecordedAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 2, 3, 14, 5, 6, 789012345, time.FixedZone("CLT", -3*60*60))
	s := newStore(t, WithClock(func() time.Time { return at }))
	if _, err := s.Append(t.Context(), "log-2026-02-03", eventstore.Any, event("a")); err != nil {
		t.Fatalf("append: %v", err)
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("read all: %d events, %v", len(got), err)
	}
	want := at.UTC().Truncate(time.Microsecond)
	if !got[0].RecordedAt.Equal(want) || got[0].RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at %v, want %v", got[0].RecordedAt, want)
	}
}

// RecordedAt is non-decreasing in position order, even across instances
// on one schema whose clocks disagree.
func TestRecordedAtNeverGoesBack(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	storetest.RecordedAtNeverGoesBack(t, func(t *testing.T, now func() time.Time) eventstore.Store {
		return openDSN(t, dsn, "", WithClock(now))
	})
}

func TestAppendRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	dup := event("dup")
	noID := event("x")
	noID.ID = uuid.Nil
	noType := event("x")
	noType.Type = ""
	badJSON := event("x")
	badJSON.Data = json.RawMessage(`{"open":`)
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"empty stream name", "", []eventstore.EventData{event("x")}},
		{"system stream", "$settings", []eventstore.EventData{event("x")}},
		{"no events", "alert-1", nil},
		{"event without id", "alert-1", []eventstore.EventData{event("x"), noID}},
		{"event without type", "alert-1", []eventstore.EventData{noType}},
		{"data that is not JSON", "alert-1", []eventstore.EventData{badJSON}},
		{"the same id twice", "alert-1", []eventstore.EventData{dup, dup}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Append(t.Context(), c.stream, eventstore.Any, c.events...); err == nil {
				t.Fatal("append succeeded, want an error")
			}
		})
	}
	got, err := s.ReadAll(t.Context(), eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil || len(got) != 0 {
		t.Errorf("store holds %d events (%v), want none", len(got), err)
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), testsvc.Postgres(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	sub, err := s.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	for range sub.Events() {
		t.Error("event on an empty store")
	}
	if err := sub.Err(); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("subscription err after store close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Append(t.Context(), "alert-1", eventstore.Any, event("x")); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("append after close: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadStream(t.Context(), "alert-1", 0, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("read stream after close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{}); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("subscribe after close: %v, want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("ping after close: %v, want ErrUnavailable", err)
	}
}

// Another instance's append reaches a subscription through NOTIFY: the
// poll is an hour, so nothing else would wake it.
func TestNotifyWakesSubscriptionsOfOtherInstances(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	local := openDSN(t, dsn, "", WithPollInterval(time.Hour))
	other := openDSN(t, dsn, "")
	sub, err := local.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	for i := range 3 {
		e := event(fmt.Sprint(i))
		if _, err := other.Append(t.Context(), "log-1", eventstore.Any, e); err != nil {
			t.Fatalf("append: %v", err)
		}
		wantSeq(t, "after append "+fmt.Sprint(i), receiveUntil(t, sub, e.ID), e.ID)
	}
}

// Without notifications at all, the poll still delivers.
func TestPollDeliversWithoutNotifications(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	local := openDSN(t, dsn, "", WithPollInterval(20*time.Millisecond))
	local.listen = false
	other := openDSN(t, dsn, "")
	sub, err := local.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	e := event("polled")
	if _, err := other.Append(t.Context(), "log-1", eventstore.Any, e); err != nil {
		t.Fatalf("append: %v", err)
	}
	wantSeq(t, "polled", receiveUntil(t, sub, e.ID), e.ID)
}

// When the listening connection is killed, the store reconnects and
// subscriptions keep receiving other instances' appends, with no poll.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	dsn := testsvc.Postgres(t)
	local := openDSN(t, dsn, "", WithPollInterval(time.Hour))
	other := openDSN(t, dsn, "")
	conn := admin(t, dsn)
	sub, err := local.Subscribe(t.Context(), eventstore.Position{}, eventstore.Filter{})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	waitPID := func(not uint32) uint32 {
		t.Helper()
		for stop := time.Now().Add(deadline); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
			if pid := local.listenerPID(); pid != 0 && pid != not {
				return pid
			}
		}
		t.Fatalf("no listener other than %d within %v", not, deadline)
		return 0
	}
	first := waitPID(0)
	var killed bool
	if err := conn.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, int32(first)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener %d: %v, %v", first, killed, err)
	}
	e1 := event("during reconnect")
	if _, err := other.Append(t.Context(), "log-1", eventstore.Any, e1); err != nil {
		t.Fatalf("append: %v", err)
	}
	wantSeq(t, "across the reconnect", receiveUntil(t, sub, e1.ID), e1.ID)
	waitPID(first)
	e2 := event("after reconnect")
	if _, err := other.Append(t.Context(), "log-1", eventstore.Any, e2); err != nil {
		t.Fatalf("append: %v", err)
	}
	wantSeq(t, "after the reconnect", receiveUntil(t, sub, e2.ID), e2.ID)
}
