package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

const informesDir = "../../../shared/data/informes"

const (
	samplePM = "Informe Situación Regional PM 11 06 25.docx"
	sampleAM = "Informe Situación Regional AM 11 07 25.docx"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(informesDir, name))
	if err != nil {
		t.Fatalf("sample informe: %v (shared/ sits beside the repository)", err)
	}
	return b
}

// variant returns the same document with a zip comment: other bytes
// (another SHA-256), the same informe. It rewrites the end-of-central-
// directory record, the last 22 bytes of a zip without a comment.
func variant(t *testing.T, doc []byte, n int) []byte {
	t.Helper()
	eocd := len(doc) - 22
	if eocd < 0 || !bytes.Equal(doc[eocd:eocd+4], []byte("PK\x05\x06")) || doc[len(doc)-2] != 0 || doc[len(doc)-1] != 0 {
		t.Fatal("sample is not a zip without a comment")
	}
	comment := fmt.Sprint("variant ", n)
	out := append([]byte(nil), doc...)
	binary.LittleEndian.PutUint16(out[len(out)-2:], uint16(len(comment)))
	return append(out, comment...)
}

type uploadJob struct {
	ID       int64    `json:"id"`
	Status   string   `json:"status"`
	Filename string   `json:"filename"`
	SHA256   string   `json:"sha256"`
	Source   string   `json:"source"`
	Warnings []string `json:"warnings"`
	Error    *struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"error"`
	Informe *struct {
		Date    string `json:"date"`
		Edition string `json:"edition"`
	} `json:"informe"`
}

type uploadAnswer struct {
	Job       uploadJob `json:"job"`
	Duplicate bool      `json:"duplicate"`
}

// upload sends a file as multipart/form-data field "file".
func (c *client) upload(t *testing.T, name string, data []byte) (int, http.Header, uploadAnswer) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	var out uploadAnswer
	code, h, err := c.call("POST", "/api/informes", map[string]string{"Content-Type": mw.FormDataContentType()}, body.String(), &out)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return code, h, out
}

func (c *client) waitJob(t *testing.T, id int64) uploadJob {
	t.Helper()
	for i := 0; i < 600; i++ {
		var out uploadAnswer
		code, _, err := c.call("GET", fmt.Sprint("/api/informes/jobs/", id), nil, "", &out)
		if err != nil || code != 200 {
			t.Fatalf("job %d: %d %v", id, code, err)
		}
		if out.Job.Status == "done" || out.Job.Status == "failed" {
			return out.Job
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %d did not finish", id)
	return uploadJob{}
}

type receivedView struct {
	Received []struct {
		Edition    string          `json:"edition"`
		Time       string          `json:"time"`
		Source     string          `json:"source"`
		Filename   string          `json:"filename"`
		SHA256     string          `json:"sha256"`
		ReceivedAt time.Time       `json:"received_at"`
		Content    json.RawMessage `json:"content"`
	} `json:"received"`
}

// received reads the day's informe as of now (an informe of a past day
// recorded today shows from the moment it was recorded).
func (c *client) received(t *testing.T, date string) receivedView {
	t.Helper()
	var v receivedView
	at := time.Now().UTC().Format(time.RFC3339Nano)
	code, _, err := c.call("GET", "/api/informes/"+date+"?at="+at, nil, "", &v)
	if err != nil || code != 200 {
		t.Fatalf("informe %s: %d %v", date, code, err)
	}
	return v
}

func sameJSON(t *testing.T, got json.RawMessage, wantFile string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(informesDir, wantFile))
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("content %s: %v", got, err)
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("content differs from %s:\n got %s\nwant %s", wantFile, gb, wb)
	}
}

func TestUploadInformeOverHTTP(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	pm := readSample(t, samplePM)

	code, h, first := c.upload(t, samplePM, pm)
	if code != 202 || first.Duplicate || first.Job.Status != "queued" || h.Get("Location") != fmt.Sprint("/api/informes/jobs/", first.Job.ID) {
		t.Fatalf("upload: %d %+v Location=%q", code, first, h.Get("Location"))
	}
	job := c.waitJob(t, first.Job.ID)
	if job.Status != "done" || job.Informe == nil || job.Informe.Date != "2025-06-11" || job.Informe.Edition != "PM" || job.Source != "upload" || job.Filename != samplePM {
		t.Fatalf("job = %+v", job)
	}
	v := c.received(t, "2025-06-11")
	if len(v.Received) != 1 || v.Received[0].Edition != "PM" || v.Received[0].Time != "18:45" || v.Received[0].SHA256 != job.SHA256 {
		t.Fatalf("received = %+v", v.Received)
	}
	sameJSON(t, v.Received[0].Content, "Informe Situación Regional PM 11 06 25.expected.json")

	// The informe of that day as of its own end predates the upload.
	var before receivedView
	if code, _, err := c.call("GET", "/api/informes/2025-06-11", nil, "", &before); err != nil || code != 200 || len(before.Received) != 0 {
		t.Fatalf("informe at the end of its day: %d %v %d received, want none (recorded later)", code, err, len(before.Received))
	}

	// The same bytes again: 200, the first job, nothing appended.
	code, _, again := c.upload(t, "otro nombre.docx", pm)
	if code != 200 || !again.Duplicate || again.Job.ID != first.Job.ID {
		t.Fatalf("second upload: %d %+v", code, again)
	}

	// The AM sample from five clients at once, as the raw body: one job, one event.
	am := readSample(t, sampleAM)
	var wg sync.WaitGroup
	ids := make(chan int64, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out uploadAnswer
			code, _, err := c.call("POST", "/api/informes?filename=AM.docx", map[string]string{"Content-Type": docxContentType}, string(am), &out)
			if err != nil || (code != 202 && code != 200) {
				t.Errorf("raw upload: %d %v", code, err)
				return
			}
			ids <- out.Job.ID
		}()
	}
	wg.Wait()
	close(ids)
	var id int64
	for got := range ids {
		if id != 0 && got != id {
			t.Fatalf("concurrent uploads of one file gave jobs %d and %d", id, got)
		}
		id = got
	}
	amJob := c.waitJob(t, id)
	if amJob.Status != "done" || amJob.Informe == nil {
		t.Fatalf("AM job = %+v", amJob)
	}
	if v := c.received(t, amJob.Informe.Date); len(v.Received) != 1 {
		t.Fatalf("%d AM informes recorded, want 1", len(v.Received))
	}
	var list struct {
		Jobs []uploadJob `json:"jobs"`
	}
	if code, _, err := c.call("GET", "/api/informes/jobs", nil, "", &list); err != nil || code != 200 || len(list.Jobs) != 2 || list.Jobs[0].ID != id {
		t.Fatalf("job list: %d %v %+v", code, err, list.Jobs)
	}
}

const docxContentType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

func TestUploadRefusesBadInput(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)

	// Not a .docx: accepted as a job, which fails with a Spanish reason.
	code, _, bad := c.upload(t, "informe.docx", []byte("esto no es un documento de Word"))
	if code != 202 {
		t.Fatalf("upload of a bad file: %d", code)
	}
	if j := c.waitJob(t, bad.Job.ID); j.Status != "failed" || j.Error == nil || j.Error.Title == "" || j.Error.Detail == "" {
		t.Fatalf("bad file's job = %+v, want failed with a reason", j)
	}
	var problem struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	// Over 20 MiB: 413 before any job.
	big := make([]byte, 20<<20+1)
	if code, _, err := c.call("POST", "/api/informes?filename=x.docx", map[string]string{"Content-Type": docxContentType}, string(big), &problem); err != nil || code != 413 {
		t.Fatalf("21 MiB upload: %d %v", code, err)
	}
	// Other routes keep the 1 MiB limit, refused from Content-Length before
	// the body is read: web's TestBodyLimitOverRealHTTP pins that (a client
	// here would race the server's early answer while still sending).
	for _, tc := range []struct {
		name, ctype, query, body string
		want                     int
	}{
		{"no file field", "multipart/form-data; boundary=x", "", "--x--\r\n", 400},
		{"raw body without a name", docxContentType, "", "PK", 400},
		{"another content type", "text/plain", "?filename=a.docx", "hola", 415},
	} {
		if code, _, err := c.call("POST", "/api/informes"+tc.query, map[string]string{"Content-Type": tc.ctype}, tc.body, &problem); err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, err, tc.want)
		}
	}
	if code, _, _ := c.call("GET", "/api/informes/jobs/999999", nil, "", nil); code != 404 {
		t.Errorf("unknown job: %d, want 404", code)
	}
}

// TestIntakeSurvivesKill: the hub is killed with jobs queued and running;
// after the restart every job ends, and each informe is recorded once.
func TestIntakeSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	child := startChild(t, dir)
	c := newClient(t, child.addr, testAdmin, testPassword)
	pm := readSample(t, samplePM)
	const n = 6
	ids := make([]int64, 0, n)
	shas := map[string]bool{}
	for i := 0; i < n; i++ {
		code, _, out := c.upload(t, fmt.Sprintf("PM %d.docx", i), variant(t, pm, i))
		if code != 202 {
			t.Fatalf("upload %d: %d", i, code)
		}
		ids = append(ids, out.Job.ID)
		shas[out.Job.SHA256] = true
	}
	_ = child.cmd.Process.Signal(syscall.SIGKILL)
	_ = child.cmd.Wait()

	restarted := startChild(t, dir)
	c.base = "http://" + restarted.addr
	for _, id := range ids {
		if j := c.waitJob(t, id); j.Status != "done" {
			t.Fatalf("job %d after restart: %+v", id, j)
		}
	}
	v := c.received(t, "2025-06-11")
	seen := map[string]int{}
	for _, r := range v.Received {
		seen[r.SHA256]++
	}
	if len(v.Received) != n || len(seen) != n {
		t.Fatalf("%d informes recorded (%d distinct), want %d, each once", len(v.Received), len(seen), n)
	}
	for sha := range shas {
		if seen[sha] != 1 {
			t.Errorf("informe %s recorded %d times", sha[:12], seen[sha])
		}
	}
}
