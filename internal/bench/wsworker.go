package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// --- the WebSocket worker (child process) ---

type wsWorkerConfig struct {
	URL     string      `json:"url"`
	Header  http.Header `json:"header"`
	Clients int         `json:"clients"`
	// CPUProfile, when set, is where the worker writes its own CPU profile.
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// wsReady is the worker's first answer.
type wsReady struct {
	Connected int    `json:"connected"`
	FirstErr  string `json:"first_error,omitempty"`
	Note      string `json:"note,omitempty"`
}

// wsReport is the worker's latency summary, in nanoseconds.
type wsReport struct {
	Deliveries int            `json:"deliveries"`
	Expected   int            `json:"expected"`
	Early      int            `json:"early"`
	P50        int64          `json:"p50"`
	P95        int64          `json:"p95"`
	P99        int64          `json:"p99"`
	Max        int64          `json:"max"`
	Lost       int            `json:"lost"`
	CloseCodes map[string]int `json:"close_codes,omitempty"`
}

// wsWorkerProc is the parent's handle on a worker.
type wsWorkerProc struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	ready   chan wsReady
	done    chan string
	reports chan wsReport
	exited  chan struct{}
	pending map[string]bool
}

// startWSWorker starts this binary again as the WebSocket worker
// (hub-bench --ws-worker), with env added to its environment.
func startWSWorker(stderr io.Writer, env []string, cfg wsWorkerConfig) (*wsWorkerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start WebSocket clients: %w", err)
	}
	cmd := exec.Command(exe, "--ws-worker")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start WebSocket clients: %w", err)
	}
	w := &wsWorkerProc{cmd: cmd, in: in, ready: make(chan wsReady, 1), done: make(chan string, 1024),
		reports: make(chan wsReport, 1), exited: make(chan struct{}), pending: map[string]bool{}}
	go func() {
		defer close(w.exited)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			verb, rest, _ := strings.Cut(sc.Text(), " ")
			switch verb {
			case "ready":
				var r wsReady
				_ = json.Unmarshal([]byte(rest), &r)
				w.ready <- r
			case "done":
				w.done <- rest
			case "report":
				var r wsReport
				_ = json.Unmarshal([]byte(rest), &r)
				w.reports <- r
			}
		}
	}()
	line, _ := json.Marshal(cfg)
	if _, err := fmt.Fprintf(in, "%s\n", line); err != nil {
		w.close()
		return nil, fmt.Errorf("start WebSocket clients: %w", err)
	}
	return w, nil
}

func (w *wsWorkerProc) waitReady(ctx context.Context, timeout time.Duration) (wsReady, error) {
	select {
	case r := <-w.ready:
		return r, nil
	case <-w.exited:
		return wsReady{}, errors.New("the WebSocket client process exited before connecting (see its errors above)")
	case <-time.After(timeout):
		return wsReady{}, fmt.Errorf("WebSocket clients not connected within %v", timeout)
	case <-ctx.Done():
		return wsReady{}, ctx.Err()
	}
}

// sent tells the worker when the edit that produces key was answered.
func (w *wsWorkerProc) sent(key string, t200 time.Time) error {
	_, err := fmt.Fprintf(w.in, "t %s %d\n", key, t200.UnixNano())
	return err
}

// waitDone waits until every client has received key.
func (w *wsWorkerProc) waitDone(ctx context.Context, key string, timeout time.Duration) bool {
	if w.pending[key] {
		delete(w.pending, key)
		return true
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case k := <-w.done:
			if k == key {
				return true
			}
			w.pending[k] = true
		case <-timer.C:
			return false
		case <-w.exited:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func (w *wsWorkerProc) report(ctx context.Context) (wsReport, error) {
	if _, err := fmt.Fprintln(w.in, "report"); err != nil {
		return wsReport{}, err
	}
	select {
	case r := <-w.reports:
		return r, nil
	case <-w.exited:
		return wsReport{}, errors.New("the WebSocket client process exited before reporting")
	case <-time.After(60 * time.Second):
		return wsReport{}, errors.New("no report from the WebSocket client process")
	case <-ctx.Done():
		return wsReport{}, ctx.Err()
	}
}

// cpu is the CPU time the worker has used so far (user + system), from
// /proc/<pid>/stat.
func (w *wsWorkerProc) cpu() string {
	d, ok := procCPU(w.cmd.Process.Pid)
	if !ok {
		return "?"
	}
	return fmtDur(d)
}

// close ends the worker: its clients close, it exits (or is killed).
func (w *wsWorkerProc) close() {
	_ = w.in.Close()
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	_ = w.cmd.Wait()
}

// wsWorker is the child: it holds the WebSocket clients and timestamps what
// they receive.
type wsWorker struct {
	outMu sync.Mutex
	out   *bufio.Writer

	mu      sync.Mutex
	arrived map[string]*arrivals
	alive   int
	lost    int
	codes   map[string]int
	closing bool
}

type arrivals struct {
	times []int64
	done  bool
}

// runWSWorker reads its configuration from the first line of in, connects
// the clients, answers "ready {…}", then obeys: "t <key> <unix ns>" (the
// edit producing key was answered then), "report" (answer "report {…}");
// end of input closes the clients. "done <key>" is printed when every
// client has received key.
func runWSWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return errors.New("ws-worker: no configuration on stdin")
	}
	var cfg wsWorkerConfig
	if err := json.Unmarshal(sc.Bytes(), &cfg); err != nil {
		return fmt.Errorf("ws-worker: configuration: %w", err)
	}
	w := &wsWorker{out: bufio.NewWriter(out), arrived: map[string]*arrivals{}, codes: map[string]int{}}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return fmt.Errorf("ws-worker: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("ws-worker: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	conns, ready := dialClients(ctx, cfg)
	w.alive = ready.Connected
	var readers sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			w.read(c)
		}()
	}
	w.emit("ready", ready)

	t200 := map[string]int64{}
	var order []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "t":
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			t200[f[1]] = ns
			order = append(order, f[1])
		case len(f) == 1 && f[0] == "report":
			w.emit("report", w.summary(t200, order, ready.Connected))
		}
	}
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	for _, c := range conns {
		if c != nil {
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.Close()
		}
	}
	readers.Wait()
	return nil
}

func (w *wsWorker) emit(verb string, v any) {
	raw, _ := json.Marshal(v)
	w.outMu.Lock()
	defer w.outMu.Unlock()
	fmt.Fprintf(w.out, "%s %s\n", verb, raw)
	_ = w.out.Flush()
}

func (w *wsWorker) emitDone(key string) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	fmt.Fprintf(w.out, "done %s\n", key)
	_ = w.out.Flush()
}

// read records the arrival of every alert notice on c.
func (w *wsWorker) read(c *websocket.Conn) {
	var m struct {
		Type string `json:"type"`
		Data struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
		} `json:"data"`
	}
	for {
		_, msg, err := c.ReadMessage()
		now := time.Now().UnixNano()
		if err != nil {
			w.gone(err)
			return
		}
		key, ok := alertKey(msg)
		if !ok {
			m.Type, m.Data.ID = "", ""
			if json.Unmarshal(msg, &m) != nil || !strings.HasPrefix(m.Type, "alert.") {
				continue
			}
			key = m.Data.ID + ":" + strconv.FormatUint(m.Data.Version, 10)
		}
		w.mu.Lock()
		a := w.arrived[key]
		if a == nil {
			a = &arrivals{}
			w.arrived[key] = a
		}
		a.times = append(a.times, now)
		fire := !a.done && len(a.times) >= w.alive
		if fire {
			a.done = true
		}
		w.mu.Unlock()
		if fire {
			w.emitDone(key)
		}
	}
}

// alertKey picks "<id>:<version>" out of an alert notice as the hub
// encodes it ({"type":"alert.…","position":…,"data":{"id":"…",…,
// "version":n,…}}) without decoding the whole message, so that the clients
// cost the machine less; ok is false for anything else (then the caller
// decodes it properly).
func alertKey(msg []byte) (key string, ok bool) {
	if !bytes.HasPrefix(msg, []byte(`{"type":"alert.`)) {
		return "", false
	}
	i := bytes.Index(msg, []byte(`"data":{"id":"`))
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(`"data":{"id":"`):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return "", false
	}
	id := rest[:end]
	j := bytes.Index(rest, []byte(`"version":`))
	if j < 0 {
		return "", false
	}
	digits := rest[j+len(`"version":`):]
	k := 0
	for k < len(digits) && digits[k] >= '0' && digits[k] <= '9' {
		k++
	}
	if k == 0 {
		return "", false
	}
	return string(id) + ":" + string(digits[:k]), true
}

// gone accounts for a connection that ended; keys every remaining client
// has received are then done.
func (w *wsWorker) gone(err error) {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return
	}
	w.alive--
	w.lost++
	code := "error"
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = strconv.Itoa(ce.Code)
	}
	w.codes[code]++
	var fire []string
	for k, a := range w.arrived {
		if !a.done && len(a.times) >= w.alive {
			a.done = true
			fire = append(fire, k)
		}
	}
	w.mu.Unlock()
	for _, k := range fire {
		w.emitDone(k)
	}
}

func (w *wsWorker) summary(t200 map[string]int64, order []string, connected int) wsReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := wsReport{Lost: w.lost, CloseCodes: w.codes, Expected: len(order) * connected}
	var lats []time.Duration
	for _, key := range order {
		a := w.arrived[key]
		if a == nil {
			continue
		}
		for _, t := range a.times {
			d := time.Duration(t - t200[key])
			if d < 0 {
				r.Early++
				d = 0
			}
			lats = append(lats, d)
		}
	}
	r.Deliveries = len(lats)
	if len(lats) > 0 {
		s := summarize(lats)
		r.P50, r.P95, r.P99, r.Max = int64(s.p50), int64(s.p95), int64(s.p99), int64(s.max)
	}
	return r
}

// --- appends and rebuild (the store directly) ---

// dialClients connects cfg.Clients WebSocket clients, 64 at a time, each
// registered with the hub (its hello read); the failed ones are nil.
func dialClients(ctx context.Context, cfg wsWorkerConfig) ([]*websocket.Conn, wsReady) {
	note := raiseNoFile(uint64(cfg.Clients + 64))
	conns := make([]*websocket.Conn, cfg.Clients)
	var (
		wg       sync.WaitGroup
		failed   atomic.Int64
		firstErr atomic.Value
	)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, resp, err := dialer.DialContext(ctx, cfg.URL, cfg.Header)
			if err == nil {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				_, _, err = c.ReadMessage() // the hello: registered with the hub
				_ = c.SetReadDeadline(time.Time{})
				if err != nil {
					c.Close()
				}
			} else if resp != nil {
				err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	ready := wsReady{Note: note}
	ready.FirstErr, _ = firstErr.Load().(string)
	for _, c := range conns {
		if c != nil {
			ready.Connected++
		}
	}
	return conns, ready
}
