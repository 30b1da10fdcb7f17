package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// TestIntakeOnPostgresFleet: the upload test with River on Postgres and two
// hub instances sharing the event store, the read models (and so the jobs)
// and Redis. A job is answered by either instance, a file sent to both is
// one job, each of many jobs is run once, by one instance, on its first
// attempt, and a WebSocket client on B hears the job notices of an upload
// to A (announced through the Redis broker).
func TestIntakeOnPostgresFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	addr, prefix := testsvc.Redis(t)
	env := fleetEnv(t, addr, prefix) // no HUB_JOBS: jobs go to the read models' Postgres
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startChild(t, dirA, env...)
	b := startChild(t, dirB, env...)
	ca := newClient(t, a.addr, testAdmin, testPassword)
	cb := newClient(t, b.addr, testAdmin, testPassword)
	pm := readSample(t, samplePM)

	// A WebSocket client on B, to hear the job notices of A's uploads.
	conn, _, err := dialWS(t, b.addr, "?topics=informes", cookieHeader(cb))
	if err != nil {
		t.Fatalf("dial B: %v", err)
	}
	defer conn.Close()
	if m := read(t, conn); m.Type != "hello" {
		t.Fatalf("first frame on B: %q, want hello", m.Type)
	}

	code, _, first := ca.upload(t, samplePM, pm)
	if code != 202 || first.Duplicate || first.Job.Status != "queued" {
		t.Fatalf("upload to A: %d %+v", code, first)
	}
	job := cb.waitJob(t, first.Job.ID) // B answers for A's job: the jobs are shared
	if job.Status != "done" || job.Informe == nil || job.Informe.Date != "2025-06-11" || job.Informe.Edition != "PM" || job.SHA256 != first.Job.SHA256 {
		t.Fatalf("job on B = %+v", job)
	}
	// "queued" is announced by A, which took the upload, so it reached B
	// through Redis; "done" by whichever instance ran the job.
	waitJobNotices(t, conn, first.Job.ID, "queued", "done")

	v := cb.received(t, "2025-06-11")
	if len(v.Received) != 1 || v.Received[0].SHA256 != job.SHA256 {
		t.Fatalf("received on B = %+v", v.Received)
	}
	sameJSON(t, v.Received[0].Content, "Informe Situación Regional PM 11 06 25.expected.json")

	// The same bytes to B: 200, A's job.
	code, _, again := cb.upload(t, "otro nombre.docx", pm)
	if code != 200 || !again.Duplicate || again.Job.ID != first.Job.ID {
		t.Fatalf("same file to B: %d %+v, want 200 duplicate of job %d", code, again, first.Job.ID)
	}

	// Distinct files, alternately to A and B: each job done once, on its
	// first attempt (no instance ran one another had taken).
	const n = 20
	ids := []int64{first.Job.ID}
	shas := map[string]bool{first.Job.SHA256: true}
	for i := 0; i < n; i++ {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		code, _, out := c.upload(t, fmt.Sprintf("PM %d.docx", i), variant(t, pm, i))
		if code != 202 || out.Duplicate {
			t.Fatalf("variant %d: %d %+v", i, code, out)
		}
		ids = append(ids, out.Job.ID)
		shas[out.Job.SHA256] = true
	}
	if len(shas) != n+1 {
		t.Fatalf("%d distinct files, want %d", len(shas), n+1)
	}
	for i, id := range ids {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		j := c.waitJob(t, id)
		if j.Status != "done" {
			t.Fatalf("job %d = %+v", id, j)
		}
		var full struct {
			Job struct {
				Attempt int `json:"attempt"`
			} `json:"job"`
		}
		if code, _, err := c.call("GET", fmt.Sprint("/api/informes/jobs/", id), nil, "", &full); err != nil || code != 200 {
			t.Fatalf("job %d: %d %v", id, code, err)
		}
		if full.Job.Attempt != 1 {
			t.Errorf("job %d ran %d times, want once", id, full.Job.Attempt)
		}
	}
	for _, dir := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Join(dir, "jobs.db")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s has a jobs.db (%v): jobs were kept apart, not in the shared Postgres", dir, err)
		}
	}
	for _, c := range []*client{ca, cb} {
		seen := map[string]int{}
		for _, r := range c.received(t, "2025-06-11").Received {
			seen[r.SHA256]++
		}
		if len(seen) != len(shas) {
			t.Errorf("%s: %d distinct informes recorded, want %d", c.base, len(seen), len(shas))
		}
		for sha := range shas {
			if seen[sha] != 1 {
				t.Errorf("%s: informe %s recorded %d times, want once", c.base, sha[:12], seen[sha])
			}
		}
	}
}

// waitJobNotices reads conn until an informe.job notice of job id has
// arrived with each of the given statuses, in any order (two instances
// publish them).
func waitJobNotices(t *testing.T, conn *websocket.Conn, id int64, statuses ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, s := range statuses {
		missing[s] = true
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(missing) > 0 {
		_ = conn.SetReadDeadline(deadline)
		var m wsMessage
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for job %d's notices %v: %v", id, missing, err)
		}
		if m.Type != "informe.job" {
			continue
		}
		var j uploadJob
		if err := json.Unmarshal(m.Data, &j); err != nil {
			t.Fatalf("informe.job %s: %v", m.Data, err)
		}
		if j.ID == id {
			delete(missing, j.Status)
		}
	}
}
