package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// running is a projector whose Run goroutine a test can stop.
type running struct {
	p      *projections.Projector
	cancel context.CancelFunc
	done   chan struct{}
}

func start(tb testing.TB, store eventstore.Store, m projections.ReadModel, opts ...projections.ProjectorOption) *running {
	tb.Helper()
	p := projections.NewProjector(store, m, nil, testLog(tb), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{p: p, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_ = p.Run(ctx)
	}()
	tb.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	<-r.done
}

// caughtUp waits until the projector has applied the head of the log.
func caughtUp(tb testing.TB, p *projections.Projector, store eventstore.Store) {
	tb.Helper()
	at, _ := head(tb, store)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitFor(ctx, at); err != nil {
		tb.Fatalf("projector at %s, want %s: %v", p.Position(), at, err)
	}
}

// admin is a connection for the test to terminate backends with.
func admin(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func terminate(tb testing.TB, conn *pgx.Conn, pid uint32) {
	tb.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ok); err != nil || !ok {
		tb.Errorf("terminate backend %d: %v %v", pid, ok, err)
	}
}

// TestProjectorKilledMidBatch: the projector's connection is terminated
// in the middle of batches (it recovers on its own), then the projector
// itself is killed in the middle of one; another one, on a new instance,
// finishes. The read model is the fold of the log, every event applied
// exactly once.
func TestProjectorKilledMidBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	store := newStore(t)
	w := newWorkload(store, 2)
	w.run(t, ctx, 300)
	killer := admin(t, dsn)

	first := openModel(t, dsn)
	var batches atomic.Int32
	var p1 atomic.Pointer[running]
	killed := make(chan struct{})
	first.beforeCommit = func(ctx context.Context, tx pgx.Tx) error {
		switch batches.Add(1) {
		case 2, 4:
			// The connection dies with the batch written but not committed.
			terminate(t, killer, tx.Conn().PgConn().PID())
		case 6:
			// The process dies in the middle of a batch.
			close(killed)
			for p1.Load() == nil {
				time.Sleep(time.Millisecond)
			}
			p1.Load().cancel()
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	p1.Store(start(t, store, first, projections.WithBatchSize(16)))
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("the projector never reached its sixth batch")
	}
	<-p1.Load().done
	cp, err := first.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, n := head(t, store); cp.IsZero() || int(cp.Commit) >= n {
		t.Fatalf("checkpoint %s: the first projector should have stopped midway", cp)
	}

	w.run(t, ctx, 50)
	second := openModel(t, dsn)
	p2 := start(t, store, second, projections.WithBatchSize(16))
	caughtUp(t, p2.p, store)
	p2.stop()
	sameAnswers(t, foldOf(t, store), second)
	exactlyOnce(t, dsn, second, store)
	if batches.Load() < 6 {
		t.Fatalf("only %d batches went through the hook", batches.Load())
	}
}

// TestFailover: two instances project the same read model; one leads, the
// other stands by and still sees every write (WaitFor); when the leader
// dies the other takes over and finishes, every event applied once.
func TestFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	store := newStore(t)
	w := newWorkload(store, 3)
	w.run(t, ctx, 50)

	a, b := openModel(t, dsn), openModel(t, dsn)
	pa, pb := start(t, store, a), start(t, store, b)
	eventually(t, 10*time.Second, "one projector leads", func() bool { return pa.p.Leading() != pb.p.Leading() })
	leader, standby, leaderModel := pa, pb, a
	if pb.p.Leading() {
		leader, standby, leaderModel = pb, pa, b
	}
	// Writes keep coming while the leader dies.
	writing, stopWriting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for writing.Err() == nil {
			if err := w.step(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Read-your-writes on the standing-by instance.
	res, err := w.cmds.Execute(ctx, "log-2026-01-15", w.meta(), nil, w.addEntry("2026-01-15", "vista desde la réplica"))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := standby.p.WaitFor(wctx, res.Position); err != nil {
		t.Fatalf("standing by, WaitFor: %v (at %s)", err, standby.p.Position())
	}
	cancel()
	if !standby.p.Live() || standby.p.Leading() {
		t.Fatalf("standby: live %v leading %v", standby.p.Live(), standby.p.Leading())
	}

	// The leader's process dies: its lease connection goes with it.
	leader.stop()
	_ = leaderModel.Close()
	eventually(t, 10*time.Second, "the standby takes over", standby.p.Leading)
	time.Sleep(200 * time.Millisecond) // some writes land after the takeover
	stopWriting()
	wg.Wait()
	caughtUp(t, standby.p, store)
	survivor := b
	if standby == pa {
		survivor = a
	}
	sameAnswers(t, foldOf(t, store), survivor)
	exactlyOnce(t, dsn, survivor, store)
}

// TestLeaseLostToATerminatedConnection: when the leader's lock connection
// is terminated, the lock is free at once and someone (maybe the old
// leader again) leads; nothing is lost or doubled.
func TestLeaseLostToATerminatedConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	store := newStore(t)
	w := newWorkload(store, 4)
	w.run(t, ctx, 30)
	a, b := openModel(t, dsn), openModel(t, dsn)
	pa, pb := start(t, store, a), start(t, store, b)
	killer := admin(t, dsn)
	for round := 0; round < 3; round++ {
		eventually(t, 10*time.Second, "one projector leads", func() bool { return pa.p.Leading() != pb.p.Leading() })
		holder := a
		if pb.p.Leading() {
			holder = b
		}
		var pid uint32
		holder.mu.Lock()
		for l := range holder.leases {
			pid = l.pid()
		}
		holder.mu.Unlock()
		if pid == 0 {
			t.Fatal("the leader holds no lease")
		}
		terminate(t, killer, pid)
		w.run(t, ctx, 20)
	}
	eventually(t, 10*time.Second, "one projector leads", func() bool { return pa.p.Leading() != pb.p.Leading() })
	leader := pa.p
	if pb.p.Leading() {
		leader = pb.p
	}
	caughtUp(t, leader, store)
	sameAnswers(t, foldOf(t, store), a)
	exactlyOnce(t, dsn, a, store)
}

// TestRebuildWhileWriting: 20 writers append while a projector runs and a
// rebuild replays the log and swaps its tables in; afterwards the read
// model is the fold of the log, every event applied exactly once.
func TestRebuildWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	store := newStore(t)
	w := newWorkload(store, 5)
	w.run(t, ctx, 400)
	m := openModel(t, dsn)
	p := start(t, store, m)
	caughtUp(t, p.p, store)

	writing, stopWriting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var wrote atomic.Int64
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for writing.Err() == nil {
				if err := w.step(ctx); err != nil {
					t.Error(err)
					return
				}
				wrote.Add(1)
			}
		}()
	}
	eventually(t, 30*time.Second, "writers under way", func() bool { return wrote.Load() > 20 })
	rebuilder := openModel(t, dsn) // as `hub projections rebuild` would
	var rounds int
	before := wrote.Load()
	res, err := rebuilder.Rebuild(ctx, store, RebuildOptions{BatchSize: 8, Progress: func(RebuildProgress) { rounds++ }})
	if err != nil {
		t.Fatal(err)
	}
	during := wrote.Load() - before
	if during == 0 {
		t.Fatal("no command was written during the rebuild")
	}
	eventually(t, 30*time.Second, "writes after the swap", func() bool { return wrote.Load() > 40 })
	stopWriting()
	wg.Wait()
	caughtUp(t, p.p, store)
	sameAnswers(t, foldOf(t, store), m)
	exactlyOnce(t, dsn, m, store)
	if g, err := m.Generation(ctx); err != nil || g != 1 || res.Generation != 1 {
		t.Fatalf("generation %d %d (%v), want 1", g, res.Generation, err)
	}
	t.Logf("%d commands written, %d during the rebuild; it replayed %d events in %d batches", wrote.Load(), during, res.Events, rounds)
}

// TestUnreachable: while the database cannot be reached, reads, Apply and
// Lead fail with errors wrapping eventstore.ErrUnavailable (503), nothing
// panics, and it all works again once the database is back.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgDSN(t)
	px := newProxy(t, dsn)
	m := openModel(t, px.dsn)
	store := newStore(t)
	w := newWorkload(store, 6)
	w.run(t, ctx, 40)
	evs := readAllEvents(t, store)
	if _, err := m.Apply(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	px.down()
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	checks := map[string]error{}
	_, checks["alerts"] = m.Alerts(short, "all")
	_, _, checks["alert"] = m.Alert(short, "a")
	_, checks["shifts"] = m.Shifts(short, "2026-01-15")
	_, checks["log"] = m.Log(short, "2026-01-15")
	_, _, checks["entry"] = m.LogEntry(short, "e")
	_, _, checks["user"] = m.UserByName(short, "ana")
	_, checks["users"] = m.Users(short)
	_, checks["checkpoint"] = m.Checkpoint(short)
	_, checks["apply"] = m.Apply(short, evs[10:])
	_, checks["lead"] = m.Lead(short, nil)
	checks["ping"] = m.Ping(short)
	for name, err := range checks {
		if !errors.Is(err, eventstore.ErrUnavailable) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: got %v, want an error wrapping eventstore.ErrUnavailable", name, err)
		}
	}
	px.up()
	eventually(t, 10*time.Second, "reads work again", func() bool {
		_, err := m.Alerts(ctx, "all")
		return err == nil
	})
	if _, err := m.Apply(ctx, evs[10:]); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, foldOf(t, store), m)
}

// proxy stands between a client and Postgres on loopback, so a test can
// make the database unreachable (down: every connection cut, new ones
// refused) without touching the server other tests share.
type proxy struct {
	dsn    string
	target string
	ln     net.Listener

	mu    sync.Mutex
	isUp  bool
	conns map[net.Conn]struct{}
}

func newProxy(tb testing.TB, dsn string) *proxy {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		tb.Fatalf("proxy: want a postgres:// URL, got %q (%v)", dsn, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{target: u.Host, ln: ln, isUp: true, conns: map[net.Conn]struct{}{}}
	u.Host = ln.Addr().String()
	p.dsn = u.String()
	go p.serve()
	tb.Cleanup(func() { _ = ln.Close(); p.down() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if !p.isUp {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.mu.Unlock()
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// down cuts every connection and refuses new ones.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isUp = false
	for c := range p.conns {
		_ = c.Close()
	}
}

// up accepts connections again.
func (p *proxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isUp = true
}
