package intake_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/intake"
	"github.com/senapred-valparaiso/vigia/jobs"
)

const samples = "../../shared/data/informes"

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatalf("sample informe: %v (the shared reference data sits beside the repository)", err)
	}
	return b
}

// recorder keeps every job change it hears.
type recorder struct {
	mu      sync.Mutex
	changes []intake.Job
}

func (r *recorder) JobChanged(j intake.Job) {
	r.mu.Lock()
	r.changes = append(r.changes, j)
	r.mu.Unlock()
}

func (r *recorder) statuses(id int64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, j := range r.changes {
		if j.ID == id {
			out = append(out, j.Status)
		}
	}
	return out
}

type fixture struct {
	store   eventstore.Store
	svc     *intake.Service
	changes *recorder
}

func setup(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	log := zerolog.New(zerolog.NewTestWriter(t))
	workers := river.NewWorkers()
	intake.NewWorker(workers, command.New(store), loc, rec, log)
	eng, err := jobs.Open(context.Background(), jobs.Config{URL: filepath.Join(dir, "jobs.db"), Workers: workers, Log: log, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Stop(ctx)
		_ = eng.Close()
	})
	return fixture{store: store, svc: intake.New(eng, rec), changes: rec}
}

func (f fixture) wait(t *testing.T, id int64) intake.Job {
	t.Helper()
	for i := 0; i < 500; i++ {
		j, err := f.svc.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == intake.StatusDone || j.Status == intake.StatusFailed {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %d did not finish", id)
	return intake.Job{}
}

func (f fixture) informes(t *testing.T, date string) []domain.InformeReceived {
	t.Helper()
	evs, err := f.store.ReadStream(context.Background(), domain.InformeStream(date), 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.InformeReceived
	for _, e := range evs {
		d, err := domain.Decode(e.Type, e.Schema, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *d.(*domain.InformeReceived))
		if e.Actor.ID != "system:intake" || e.Actor.Username != "intake:ana" {
			t.Errorf("appended by %+v, want the intake naming the uploader", e.Actor)
		}
	}
	return out
}

const pm = "Informe Situación Regional PM 11 06 25.docx"

func TestUploadIsParsedAndAppendedOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	data := sample(t, pm)
	up := intake.Upload{Filename: pm, Data: data, Source: domain.SourceUpload, By: eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}}
	job, dup, err := f.svc.Submit(ctx, up)
	if err != nil || dup || job.Status != intake.StatusQueued {
		t.Fatalf("submit = %+v dup=%v err=%v, want a queued new job", job, dup, err)
	}
	done := f.wait(t, job.ID)
	if done.Status != intake.StatusDone || done.Informe == nil || *done.Informe != (intake.InformeRef{Date: "2025-06-11", Edition: "PM"}) || done.FinishedAt == nil {
		t.Fatalf("finished job = %+v", done)
	}
	got := f.informes(t, "2025-06-11")
	if len(got) != 1 {
		t.Fatalf("%d informe events, want 1", len(got))
	}
	var want, have any
	raw, _ := os.ReadFile(filepath.Join(samples, "Informe Situación Regional PM 11 06 25.expected.json"))
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got[0].Content, &have); err != nil {
		t.Fatal(err)
	}
	if wb, _ := json.Marshal(want); string(wb) != string(mustJSON(t, have)) {
		t.Fatalf("content differs from the expected.json:\n got %s\nwant %s", mustJSON(t, have), wb)
	}
	if got[0].Edition != "PM" || got[0].Time != "18:45" || got[0].Source != domain.SourceUpload || got[0].SHA256 != job.SHA256 || got[0].Filename != pm {
		t.Fatalf("event = %+v", got[0])
	}
	// The same bytes again: the first job, nothing appended.
	again, dup, err := f.svc.Submit(ctx, up)
	if err != nil || !dup || again.ID != job.ID || again.Status != intake.StatusDone {
		t.Fatalf("resubmit = %+v dup=%v err=%v, want the first job, done", again, dup, err)
	}
	if n := len(f.informes(t, "2025-06-11")); n != 1 {
		t.Fatalf("%d events after a resubmit, want 1", n)
	}
	if st := f.changes.statuses(job.ID); len(st) < 3 || st[0] != intake.StatusQueued || st[len(st)-1] != intake.StatusDone {
		t.Fatalf("status changes heard = %v, want queued … running … done", st)
	}
	list, err := f.svc.Jobs(ctx, 10)
	if err != nil || len(list) != 1 || list[0].ID != job.ID {
		t.Fatalf("Jobs = %+v, %v", list, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConcurrentUploadsOfOneFileAppendOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	data := sample(t, pm)
	var wg sync.WaitGroup
	ids := make(chan int64, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, _, err := f.svc.Submit(context.Background(), intake.Upload{Filename: pm, Data: data, Source: domain.SourceUpload, By: eventstore.Actor{Username: "ana"}})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- j.ID
		}()
	}
	wg.Wait()
	close(ids)
	var first int64
	for id := range ids {
		if first == 0 {
			first = id
		} else if id != first {
			t.Fatalf("two jobs (%d, %d) for one file", first, id)
		}
	}
	f.wait(t, first)
	if n := len(f.informes(t, "2025-06-11")); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestBadFileFailsWithASpanishReasonAndAppendsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	job, _, err := f.svc.Submit(context.Background(), intake.Upload{Filename: "informe.docx", Data: []byte("esto no es un docx"), Source: domain.SourceUpload, By: eventstore.Actor{Username: "ana"}})
	if err != nil {
		t.Fatal(err)
	}
	done := f.wait(t, job.ID)
	if done.Status != intake.StatusFailed || done.Error == nil || done.Error.Title == "" || done.Attempt != 1 {
		t.Fatalf("job = %+v, want failed after one attempt with a reason", done)
	}
	if _, err := f.svc.Job(context.Background(), job.ID+1000); err != intake.ErrNotFound {
		t.Fatalf("unknown job: %v", err)
	}
}
