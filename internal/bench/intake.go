package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// defaultInforme is --informe's default, relative to the repository root:
// the PM sample of the shared data set, which sits beside the repository.
const defaultInforme = "../shared/data/informes/Informe Situación Regional PM 11 06 25.docx"

// intakeTimeout bounds the wait for one job to finish.
const intakeTimeout = time.Minute

// readInforme reads --informe: as given (absolute, or relative to the
// working directory), else relative to the repository root, the nearest
// directory above the working directory with a go.mod.
func readInforme(path string) ([]byte, error) {
	tried := []string{path}
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if root := repoRoot(); root != "" && !filepath.IsAbs(path) && errors.Is(err, os.ErrNotExist) {
		p := filepath.Join(root, path)
		tried = append(tried, p)
		if data, err = os.ReadFile(p); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("--informe: no sample informe at %q (%v; the intake scenario uploads it, and the samples are in shared/data/informes beside the repository): name one with --informe PATH, or leave intake out of --scenarios", tried, err)
}

// repoRoot is the nearest directory at or above the working directory
// holding a go.mod, or "".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// informeVariant returns the document with a zip comment naming the run
// and n: other bytes (another SHA-256, so another job), the same informe.
// It rewrites the end-of-central-directory record, the last 22 bytes of a
// zip without a comment.
func informeVariant(doc []byte, run string, n int) ([]byte, error) {
	eocd := len(doc) - 22
	if eocd < 0 || !bytes.Equal(doc[eocd:eocd+4], []byte("PK\x05\x06")) || doc[len(doc)-2] != 0 || doc[len(doc)-1] != 0 {
		return nil, errors.New("the sample informe is not a .docx (zip) without a comment")
	}
	comment := fmt.Sprintf("hub-bench %s %d", run, n)
	out := make([]byte, len(doc), len(doc)+len(comment))
	copy(out, doc)
	binary.LittleEndian.PutUint16(out[len(out)-2:], uint16(len(comment)))
	return append(out, comment...), nil
}

// intake uploads variants of the sample informe: one at a time, timing
// each from the upload to its job's done notice; then --intake-uploads at
// once, timing until all are done and sampling the hub's resident memory.
func (b *bench) intake(ctx context.Context) error {
	if b.hub == nil {
		b.rows = append(b.rows, tableRow{scenario: "intake", name: "uploads", result: "n/a", target: "p99<100ms"})
		b.note("intake: n/a with --target; it would record hundreds of copies of the sample informe in that hub's log")
		return nil
	}
	w, err := b.watchJobs()
	if err != nil {
		return err
	}
	defer w.close()
	run := randomHex(4)
	if err := b.intakeOneAtATime(ctx, w, run); err != nil {
		return err
	}
	return b.intakeBurst(ctx, w, run)
}

// intakeOneAtATime adds the latency row: --intake-latency uploads, each
// after the previous job is done.
func (b *bench) intakeOneAtATime(ctx context.Context, w *jobWatch, run string) error {
	n := b.o.intakeLatency
	var done atomic.Int64
	b.progress.start(fmt.Sprintf("intake: %d informes one at a time", n), func() string { return fmtInt(done.Load()) + " done" })
	defer b.progress.finish()
	lats := make([]time.Duration, 0, n)
	posts := make([]time.Duration, 0, n)
	ids := make([]int64, 0, n)
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		doc, err := informeVariant(b.informe, run, i)
		if err != nil {
			return err
		}
		r, err := b.uploadAndWait(ctx, w, i, doc)
		if err != nil {
			return err
		}
		lats, posts, ids = append(lats, r.done), append(posts, r.post), append(ids, r.id)
		done.Add(1)
	}
	elapsed := time.Since(start)
	s := summarize(lats)
	b.rows = append(b.rows, tableRow{scenario: "intake", name: fmt.Sprintf("upload → job done, %d one at a time", len(lats)),
		result: fmtRate(float64(len(lats))/elapsed.Seconds()) + " informes/s",
		p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "p99<100ms", verdict: verdict(s.p99 < 100*time.Millisecond)})
	ps := summarize(posts)
	inHub, err := b.jobSpans(ctx, ids)
	if err != nil {
		return err
	}
	hs := summarize(inHub)
	b.note("intake, one at a time (a %.1f KiB .docx): the upload's 202 after %s (median; p99 %s); the job from its insert to its end (queue wait + parse + append, the jobs table's created_at to finalized_at) %s (median; p99 %s); the done notice %s after the upload began (median; p99 %s)",
		float64(len(b.informe))/1024, fmtDur(ps.p50), fmtDur(ps.p99), fmtDur(hs.p50), fmtDur(hs.p99), fmtDur(s.p50), fmtDur(s.p99))
	if m := w.missed.Load(); m > 0 {
		b.note("intake: %d done notices did not arrive; those jobs were polled (their times overstate)", m)
	}
	return nil
}

// intakeBurst adds the burst rows: --intake-uploads uploads at once, from
// as many goroutines; the time until all are done, and the hub's VmRSS at
// its peak meanwhile minus before (after a GC).
func (b *bench) intakeBurst(ctx context.Context, w *jobWatch, run string) error {
	n := b.o.intakeUploads
	docs := make([][]byte, n)
	for i := range docs {
		var err error
		if docs[i], err = informeVariant(b.informe, run, b.o.intakeLatency+i); err != nil {
			return err
		}
	}
	before, err := b.hub.memory()
	if err != nil {
		return err
	}
	var done atomic.Int64
	b.progress.start(fmt.Sprintf("intake: %d informes at once", n), func() string { return fmtInt(done.Load()) + " done" })
	peak := b.sampleRSS(before.rss)
	lats := make([]time.Duration, n)
	var fe firstError
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := b.uploadAndWait(ctx, w, b.o.intakeLatency+i, docs[i])
			if err != nil {
				fe.set(err)
				return
			}
			lats[i] = r.done
			done.Add(1)
		}()
	}
	wg.Wait()
	total := time.Since(start)
	top := peak()
	b.progress.finish()
	if err := fe.get(); err != nil {
		return err
	}
	after, err := b.hub.memory()
	if err != nil {
		return err
	}
	s := summarize(lats)
	b.rows = append(b.rows, tableRow{scenario: "intake", name: fmt.Sprintf("%d uploads at once, each until done", n),
		result: "all done in " + fmtDur(total), p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)})
	growth := top - before.rss
	b.rows = append(b.rows, tableRow{scenario: "intake", name: fmt.Sprintf("%d uploads at once, hub VmRSS peak growth", n),
		result: fmt.Sprintf("%+.1f MiB", float64(growth)/(1<<20)), target: "<200 MiB", verdict: verdict(growth < 200<<20)})
	b.note("intake, %d at once: hub VmRSS %s before (after a GC), %s at its peak (sampled every 5ms), %s after a GC once all were done",
		n, fmtBytes(before.rss), fmtBytes(top), fmtBytes(after.rss))
	return nil
}

// sampleRSS samples the hub's VmRSS every 5 ms until the returned function
// is called, which returns the highest value seen (at least floor).
func (b *bench) sampleRSS(floor int64) (stop func() int64) {
	pid := b.hub.pid()
	quit, out := make(chan struct{}), make(chan int64)
	go func() {
		top := floor
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			top = max(top, vmRSS(pid))
			select {
			case <-quit:
				out <- max(top, vmRSS(pid))
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(quit); return <-out }
}

// intakeResult is one upload's times, from the moment it began.
type intakeResult struct {
	id   int64
	post time.Duration // until the 202
	done time.Duration // until the job's done notice
}

// uploadAndWait uploads doc and waits for its job to be done.
func (b *bench) uploadAndWait(ctx context.Context, w *jobWatch, n int, doc []byte) (intakeResult, error) {
	t0 := time.Now()
	id, err := b.uploadInforme(fmt.Sprintf("Informe bench %d.docx", n), doc)
	if err != nil {
		return intakeResult{}, err
	}
	post := time.Since(t0)
	at, status, ok := w.wait(ctx, id, intakeTimeout)
	if !ok {
		w.missed.Add(1)
		j, err := b.pollJob(ctx, id)
		if err != nil {
			return intakeResult{}, err
		}
		status = j.Status
		at = time.Now()
	}
	if status != "done" {
		return intakeResult{}, fmt.Errorf("informe job %d ended %s, want done", id, status)
	}
	return intakeResult{id: id, post: post, done: at.Sub(t0)}, nil
}

// uploadInforme posts doc as a browser form does (multipart, field file)
// and returns its job's ID.
func (b *bench) uploadInforme(name string, doc []byte) (int64, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return 0, err
	}
	_, _ = fw.Write(doc)
	if err := mw.Close(); err != nil {
		return 0, err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(b.base + "/api/informes")
	req.Header.SetMethod("POST")
	req.Header.Set("Cookie", b.cookie)
	req.Header.SetContentType(mw.FormDataContentType())
	req.SetBody(body.Bytes())
	if err := b.http.Do(req, resp); err != nil {
		return 0, fmt.Errorf("upload %s: %w", name, err)
	}
	if resp.StatusCode() != http.StatusAccepted {
		return 0, fmt.Errorf("upload %s: HTTP %d %s, want 202 (a new job)", name, resp.StatusCode(), resp.Body())
	}
	var out struct {
		Job struct {
			ID int64 `json:"id"`
		} `json:"job"`
	}
	if err := json.Unmarshal(resp.Body(), &out); err != nil || out.Job.ID == 0 {
		return 0, fmt.Errorf("upload %s: answer %s: %v", name, resp.Body(), err)
	}
	return out.Job.ID, nil
}

// jobInfo is what the bench reads of a job.
type jobInfo struct {
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// pollJob reads a job until it is done or failed.
func (b *bench) pollJob(ctx context.Context, id int64) (jobInfo, error) {
	deadline := time.Now().Add(intakeTimeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		r, err := b.do("GET", "/api/informes/jobs/"+strconv.FormatInt(id, 10), "", "")
		if err != nil {
			return jobInfo{}, err
		}
		var out struct {
			Job jobInfo `json:"job"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
			return jobInfo{}, fmt.Errorf("informe job %d: HTTP %d %s", id, r.status, r.body)
		}
		if out.Job.FinishedAt != nil && (out.Job.Status == "done" || out.Job.Status == "failed") {
			return out.Job, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return jobInfo{}, fmt.Errorf("informe job %d not finished within %v", id, intakeTimeout)
}

// jobSpans returns, for each job, the time from its insert to its end as
// the jobs table has them. The done notice goes out at the end of the
// worker's run, before River records the job completed (its completer
// batches), so a job just announced may still read "running": each is
// polled until it is finished.
func (b *bench) jobSpans(ctx context.Context, ids []int64) ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(ids))
	for _, id := range ids {
		j, err := b.pollJob(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, j.FinishedAt.Sub(j.CreatedAt))
	}
	return out, nil
}

// jobWatch is a WebSocket client on the informes topic that notes when
// each job's final notice (informe.job, done or failed) arrives.
type jobWatch struct {
	conn   *websocket.Conn
	missed atomic.Int64 // jobs whose notice never came (polled instead)

	mu      sync.Mutex
	at      map[int64]time.Time
	status  map[int64]string
	changed chan struct{} // closed and replaced at each final notice
	ended   bool          // the connection is gone
}

func (b *bench) watchJobs() (*jobWatch, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws://"+b.hostPort+"/ws?topics=informes", http.Header{"Cookie": {b.cookie}, "Origin": {b.base}})
	if err != nil {
		return nil, fmt.Errorf("intake: WebSocket on the informes topic: %w", err)
	}
	w := &jobWatch{conn: conn, at: map[int64]time.Time{}, status: map[int64]string{}, changed: make(chan struct{})}
	var hello struct {
		Type string `json:"type"`
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		conn.Close()
		return nil, fmt.Errorf("intake: WebSocket: first frame %q, %v; want hello", hello.Type, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	go w.read()
	return w, nil
}

func (w *jobWatch) read() {
	for {
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := w.conn.ReadJSON(&m); err != nil {
			w.mu.Lock()
			w.ended = true
			close(w.changed)
			w.mu.Unlock()
			return
		}
		now := time.Now()
		if m.Type != "informe.job" {
			continue
		}
		var j struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		if json.Unmarshal(m.Data, &j) != nil || (j.Status != "done" && j.Status != "failed") {
			continue
		}
		w.mu.Lock()
		w.at[j.ID], w.status[j.ID] = now, j.Status
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// wait returns when job id's final notice arrived and its status; ok is
// false if it did not come within timeout or the connection ended.
func (w *jobWatch) wait(ctx context.Context, id int64, timeout time.Duration) (at time.Time, status string, ok bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		at, status, ok = w.at[id], w.status[id], !w.at[id].IsZero()
		ended, changed := w.ended, w.changed
		w.mu.Unlock()
		if ok || ended {
			return at, status, ok
		}
		select {
		case <-changed:
		case <-deadline.C:
			return time.Time{}, "", false
		case <-ctx.Done():
			return time.Time{}, "", false
		}
	}
}

func (w *jobWatch) close() { _ = w.conn.Close() }
