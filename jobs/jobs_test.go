package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
	"github.com/senapred-valparaiso/vigia/jobs"
)

type echoArgs struct {
	Key string `json:"key" river:"unique"`
	N   int    `json:"n"`
}

func (echoArgs) Kind() string { return "test_echo" }

// recorder is a worker that records each key it ran, and by whom.
type recorder struct {
	river.WorkerDefaults[echoArgs]
	name string
	mu   *sync.Mutex
	ran  map[string][]string
	done chan string
}

func (w *recorder) Work(_ context.Context, j *river.Job[echoArgs]) error {
	w.mu.Lock()
	w.ran[j.Args.Key] = append(w.ran[j.Args.Key], w.name)
	w.mu.Unlock()
	w.done <- j.Args.Key
	return nil
}

type runs struct {
	mu   sync.Mutex
	ran  map[string][]string
	done chan string
}

func newRuns() *runs { return &runs{ran: map[string][]string{}, done: make(chan string, 1000)} }

func (r *runs) worker(name string) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &recorder{name: name, mu: &r.mu, ran: r.ran, done: r.done})
	return w
}

func (r *runs) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-r.done:
		case <-deadline:
			t.Fatalf("only %d of %d jobs ran", i, n)
		}
	}
}

func open(t *testing.T, url string, w *river.Workers) *jobs.Engine {
	t.Helper()
	e, err := jobs.Open(context.Background(), jobs.Config{URL: url, Workers: w, Log: zerolog.New(zerolog.NewTestWriter(t)), PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e
}

func stop(t *testing.T, e *jobs.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// A job inserted before a restart runs after it, once; a unique job inserted
// twice is stored once and the second insert returns the first.
func testDurableAndUnique(t *testing.T, url string) {
	ctx := context.Background()
	r := newRuns()
	e := open(t, url, r.worker("a"))
	first, err := e.Insert(ctx, echoArgs{Key: "k1", N: 1}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Insert(ctx, echoArgs{Key: "k1", N: 2}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !again.UniqueSkippedAsDuplicate || again.Job.ID != first.Job.ID {
		t.Fatalf("second insert: duplicate=%v id=%d, want the first job %d", again.UniqueSkippedAsDuplicate, again.Job.ID, first.Job.ID)
	}
	stop(t, e) // never started: the job waits in the database

	e = open(t, url, r.worker("b"))
	defer stop(t, e)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 1)
	row := waitState(t, e, first.Job.ID, "completed")
	if got := r.ran["k1"]; len(got) != 1 || got[0] != "b" {
		t.Fatalf("k1 ran by %v, want once by the reopened engine", got)
	}
	list, err := e.Jobs(ctx, 10, "test_echo")
	if err != nil || len(list) != 1 || list[0].ID != row.ID {
		t.Fatalf("Jobs = %v, %v; want the one job", list, err)
	}
	if _, err := e.Job(ctx, 1<<40); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("Job(unknown) error = %v, want ErrNotFound", err)
	}
	if err := e.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func waitState(t *testing.T, e *jobs.Engine, id int64, state string) *rivertype.JobRow {
	t.Helper()
	for i := 0; i < 300; i++ {
		row, err := e.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if string(row.State) == state {
			return row
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %d never reached %s", id, state)
	return nil
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	testDurableAndUnique(t, filepath.Join(t.TempDir(), "jobs.db"))
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	testDurableAndUnique(t, testsvc.Postgres(t))
}

// Two instances on one Postgres: every job runs exactly once, on one of them.
func TestPostgresFleetRunsEachJobOnce(t *testing.T) {
	t.Parallel()
	url := testsvc.Postgres(t)
	ctx := context.Background()
	r := newRuns()
	a, b := open(t, url, r.worker("a")), open(t, url, r.worker("b"))
	defer stop(t, a)
	defer stop(t, b)
	for _, e := range []*jobs.Engine{a, b} {
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const n = 40
	for i := 0; i < n; i++ {
		e := a
		if i%2 == 1 {
			e = b
		}
		if _, err := e.Insert(ctx, echoArgs{Key: fmt.Sprint("k", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, n)
	time.Sleep(200 * time.Millisecond) // a second run, if any, would land now
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ran) != n {
		t.Fatalf("%d distinct jobs ran, want %d", len(r.ran), n)
	}
	for k, by := range r.ran {
		if len(by) != 1 {
			t.Errorf("job %s ran %d times (%v), want once", k, len(by), by)
		}
	}
}

// blocker is a worker that never finishes until its context ends.
type blocker struct {
	river.WorkerDefaults[echoArgs]
	started chan struct{}
}

func (w *blocker) Work(ctx context.Context, _ *river.Job[echoArgs]) error {
	close(w.started)
	<-ctx.Done()
	return ctx.Err()
}

// A job left running when its process died runs again as soon as the
// SQLite engine reopens, not after the rescue delay.
func TestSQLiteRequeuesAJobLeftRunning(t *testing.T) {
	t.Parallel()
	url := filepath.Join(t.TempDir(), "jobs.db")
	ctx := context.Background()
	b := &blocker{started: make(chan struct{})}
	w := river.NewWorkers()
	river.AddWorker(w, b)
	// This engine's database is closed under it: it logs errors until it
	// stops, past the test's end, so it logs nowhere.
	e, err := jobs.Open(ctx, jobs.Config{URL: url, Workers: w, Log: zerolog.Nop(), PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Insert(ctx, echoArgs{Key: "k"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-b.started
	// Stand in for kill -9: close the database under the running job.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_ = e.Stop(stopCtx)
	cancel()

	r := newRuns()
	e = open(t, url, r.worker("after"))
	defer stop(t, e)
	if row, err := e.Job(ctx, res.Job.ID); err != nil || row.State != rivertype.JobStateAvailable {
		t.Fatalf("after reopening: %v %v, want the job available again", row.State, err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 1)
}
