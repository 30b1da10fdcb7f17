package main

// hub bench: the load generator in the binary. It measures the hub the way
// operators and wall displays use it (HTTP reads and edits, WebSocket push,
// idle connections) and the store and read model underneath (raw appends,
// rebuild), and prints one table. docs/benchmarks.md has the numbers.
//
// The WebSocket clients run in a child process (this binary again, as
// `hub bench --ws-worker`): so that their memory does not count as the hub's
// when measuring resident memory per connection, and so that 10,000 clients
// and the hub's 10,000 server ends do not share one file descriptor limit.
// Push latency is the child's arrival time (wall clock) minus the parent's
// time of the HTTP 200; both read the same system clock.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
	"github.com/senapred-valparaiso/vigia/web"
)

const benchHelp = `Measures a hub and prints one table: HTTP reads and edits, push latency to
WebSocket clients, resident memory per idle connection, raw appends into the
event store and a rebuild of the read model.

By default it starts a hub of its own in this process, on 127.0.0.1, with its
data in a temporary directory that is removed afterwards (embedded SQLite,
memory read model, in-process broker). --eventstore, --readmodel and --broker
(or HUB_EVENTSTORE, HUB_READMODEL, HUB_BROKER) make that hub a scaled-out one;
the bench writes thousands of alerts and up to --rebuild-events events there,
so it refuses a store that already holds events unless --allow-nonempty.

With --target it loads a running hub instead, only on this machine (loopback),
logging in with --user and --password (an operator or above: it declares and
edits alerts there). The appends and rebuild then use --eventstore, or a
temporary SQLite file, never the target's store; memory is n/a (the hub is
another process).

Scenarios, in the order they run (each timed case lasts --duration):
  reads    GET /api/alerts from --read-concurrency keep-alive connections,
           with --alerts alerts in force: requests/s, p50/p95/p99/max
  edits    PATCH /api/alerts/{id} from --operators concurrent operators, each
           on an alert of their own: commands/s, latency; then all of them on
           one alert, re-reading the ETag from each 412: the 412 rate
  push     for each N in --clients: N WebSocket clients (topics=alerts), one
           edit at a time, the next when every client has the previous one:
           time from the edit's HTTP 200 to its arrival at each client,
           p50/p99/max, and deliveries/s
  memory   for each N in --clients: the hub's resident memory (VmRSS, after
           GC) with N idle WebSocket connections minus without, divided by N
  appends  events/s appended to the event store directly: batches of 1 and of
           100 from one writer, and batches of 1 from --operators writers
  rebuild  appends --rebuild-events events (a year of log entries, alerts and
           shifts), then times replaying the whole log into a fresh memory
           read model, as the hub does at start; with --readmodel
           postgres://… also that read model's own rebuild (fresh tables,
           then swap)
  history  time travel over a year of --rebuild-events events stamped day
           by day (an embedded store, generated once and kept in the
           temporary directory when it has 100,000 events or more): the
           snapshotter's pass over the log, then the informe of random days
           with its day snapshots and without them, and a day's changes
Notes under the table say, among other things, when other processes took
more than 5% of the machine's CPU during a scenario (its numbers then
understate the hub). On a terminal a progress line shows on stderr.
--profile-dir writes a CPU profile of this process per scenario, and one of
the WebSocket clients' process per client count.`

// benchOrder is every scenario, in the order they run.
var benchOrder = []string{"reads", "edits", "push", "memory", "appends", "rebuild", "history"}

// benchChildEnv is added to the WebSocket worker's environment (tests set
// what makes the test binary act as the hub binary).
var benchChildEnv []string

type benchOptions struct {
	target, user, password string
	duration               time.Duration
	scenarios              map[string]bool
	clients                []int
	readConcurrency        int
	operators              int
	alerts                 int
	rebuildEvents          int
	profileDir             string
	allowNonEmpty          bool
	eventStore, readModel  string
	broker                 string
	wsWorker               bool
}

func parseBench(args []string, getenv env, stderr io.Writer) (*benchOptions, error) {
	o := &benchOptions{}
	var scenarios, clients string
	fs := newFlagSet("bench")
	fs.StringVar(&o.target, "target", "", "URL of a running hub to load (loopback only, e.g. http://127.0.0.1:8080); empty starts a hub in this process")
	fs.StringVar(&o.user, "user", "", "with --target: the username to log in as (operator or above)")
	fs.StringVar(&o.password, "password", "", "with --target: its password (or HUB_BENCH_PASSWORD)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each timed case runs")
	fs.StringVar(&scenarios, "scenarios", strings.Join(benchOrder, ","), "comma-separated scenarios to run, or all")
	fs.StringVar(&clients, "clients", "1000,10000", "comma-separated WebSocket client counts for push and memory")
	fs.IntVar(&o.readConcurrency, "read-concurrency", 500, "concurrent keep-alive connections for reads")
	fs.IntVar(&o.operators, "operators", 50, "concurrent operators for edits (and writers for appends)")
	fs.IntVar(&o.alerts, "alerts", 20, "alerts in force that reads list (declared before reads)")
	fs.IntVar(&o.rebuildEvents, "rebuild-events", 1_000_000, "events appended, then replayed, by rebuild")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write a CPU profile per scenario to DIR/<scenario>.cpu.pprof")
	fs.BoolVar(&o.allowNonEmpty, "allow-nonempty", false, "let the bench write into an event store that already holds events")
	stringFlag(fs, getenv, &o.eventStore, "eventstore", "HUB_EVENTSTORE", "", "event store of the bench's hub, appends and rebuild: empty for a temporary SQLite file, sqlite:///path or postgres://…")
	stringFlag(fs, getenv, &o.readModel, "readmodel", "HUB_READMODEL", "memory", "read model of the bench's hub: memory or postgres://…")
	stringFlag(fs, getenv, &o.broker, "broker", "HUB_BROKER", "memory", "broker of the bench's hub: memory or redis://…")
	fs.BoolVar(&o.wsWorker, "ws-worker", false, "internal: run as the WebSocket client process that hub bench starts (reads its orders on stdin)")
	if err := parseFlags(fs, args, stderr, benchHelp); err != nil {
		return nil, err
	}
	if o.wsWorker {
		return o, nil
	}
	if o.password == "" {
		o.password = getenv("HUB_BENCH_PASSWORD")
	}
	bad := func(format string, a ...any) (*benchOptions, error) {
		fmt.Fprintf(stderr, "hub bench: "+format+"\n", a...)
		return nil, errUsage
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "all":
			for _, x := range benchOrder {
				o.scenarios[x] = true
			}
		case slices.Contains(benchOrder, s):
			o.scenarios[s] = true
		default:
			return bad("unknown scenario %q (want %s or all)", s, strings.Join(benchOrder, ","))
		}
	}
	for _, s := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
		if err != nil || n < 1 {
			return bad("--clients: %q is not a positive number", s)
		}
		o.clients = append(o.clients, n)
	}
	switch {
	case o.duration <= 0:
		return bad("--duration must be positive")
	case o.readConcurrency < 1, o.operators < 1, o.alerts < 0, o.rebuildEvents < 1:
		return bad("--read-concurrency, --operators and --rebuild-events must be at least 1, --alerts at least 0")
	case o.target != "" && (o.user == "" || o.password == ""):
		return bad("--target needs --user and --password (or HUB_BENCH_PASSWORD)")
	case o.target == "" && o.user != "":
		return bad("--user is for --target; the bench's own hub gets a bench admin")
	}
	return o, nil
}

// runBench is `hub bench`.
func runBench(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	o, err := parseBench(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.wsWorker {
		return runWSWorker(ctx, os.Stdin, stdout)
	}
	b := &bench{o: o, stdout: stdout, stderr: stderr, progress: &progress{w: stderr, tty: isTerminal(stderr)}}
	return b.run(ctx)
}

// bench is one run of `hub bench`.
type bench struct {
	o        *benchOptions
	stdout   io.Writer
	stderr   io.Writer
	progress *progress

	hub      *Main  // the in-process hub, nil with --target
	tmp      string // the temporary data directory
	base     string // http://host:port
	hostPort string
	user     string
	password string
	http     *fasthttp.HostClient
	cookie   string

	rows  []benchRow
	notes []string
	errs  []error
}

// benchRow is one line of the table. Empty cells print as "-".
type benchRow struct {
	scenario, name, result string
	p50, p95, p99, max     string
	target, verdict        string
}

func (b *bench) note(format string, a ...any) { b.notes = append(b.notes, fmt.Sprintf(format, a...)) }

// fail records a scenario that could not produce its numbers: its rows say
// so and the command exits non-zero after printing the table.
func (b *bench) fail(scenario, name string, err error) {
	b.errs = append(b.errs, fmt.Errorf("%s %s: %w", scenario, name, err))
	b.rows = append(b.rows, benchRow{scenario: scenario, name: name, result: "error (see notes)"})
	b.note("%s, %s: %v", scenario, name, err)
}

func (b *bench) run(ctx context.Context) (err error) {
	if b.o.profileDir != "" {
		if err := os.MkdirAll(b.o.profileDir, 0o750); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
	}
	maxClients := slices.Max(b.o.clients)
	if msg := raiseNoFile(uint64(maxClients + 2*b.o.readConcurrency + 256)); msg != "" {
		b.note("%s", msg)
	}
	defer func() {
		if b.hub != nil {
			err = errors.Join(err, b.hub.Close())
		}
		if b.tmp != "" {
			err = errors.Join(err, os.RemoveAll(b.tmp))
		}
	}()
	if err := b.checkEmpty(ctx, b.storeConfig()); err != nil {
		return err
	}
	if err := b.checkReadModel(ctx); err != nil {
		return err
	}
	mode := "the event store directly (no HTTP scenario selected)"
	if b.o.scenarios["reads"] || b.o.scenarios["edits"] || b.o.scenarios["push"] || b.o.scenarios["memory"] {
		if mode, err = b.connect(ctx); err != nil {
			return err
		}
		b.http = &fasthttp.HostClient{
			Addr: b.hostPort, MaxConns: max(b.o.readConcurrency, b.o.operators) + 16,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxIdleConnDuration: time.Minute,
			NoDefaultUserAgentHeader: true,
		}
		if b.cookie, err = b.login(); err != nil {
			return err
		}
		b.httpScenarios(ctx)
	}
	if (b.o.scenarios["appends"] || b.o.scenarios["rebuild"]) && ctx.Err() == nil {
		if err := b.storeScenarios(ctx); err != nil {
			b.fail("appends", "open store", err)
		}
	}
	if b.o.scenarios["history"] && ctx.Err() == nil {
		if err := b.history(ctx); err != nil {
			b.fail("history", "", err)
		}
	}
	b.print(mode)
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(b.errs...)
}

// httpScenarios runs reads, edits, push and memory against the hub, then
// stops the bench's own hub, so that its projector does not compete for
// the CPU while the store scenarios write.
func (b *bench) httpScenarios(ctx context.Context) {
	run := func(scenario string, f func(context.Context) error) {
		if !b.o.scenarios[scenario] || ctx.Err() != nil {
			return
		}
		stop := b.profile(scenario)
		if err := f(ctx); err != nil {
			b.fail(scenario, "", err)
		}
		stop()
	}
	run("reads", b.reads)
	run("edits", b.edits)
	if b.o.scenarios["push"] || b.o.scenarios["memory"] {
		name := "push"
		if !b.o.scenarios["push"] {
			name = "memory"
		}
		stop := b.profile(name)
		for _, n := range b.o.clients {
			if ctx.Err() != nil {
				break
			}
			if err := b.push(ctx, n); err != nil {
				b.fail(name, fmt.Sprintf("%d clients", n), err)
			}
		}
		stop()
	}
	if b.o.scenarios["memory"] && b.hub == nil {
		b.rows = append(b.rows, benchRow{scenario: "memory", name: "idle WebSockets", result: "n/a", target: "≤32 KiB per idle connection"})
		b.note("memory: n/a with --target, the hub is another process; run hub bench without --target to measure it")
	}
	b.http.CloseIdleConnections()
	if b.hub != nil {
		err := b.hub.Close()
		b.hub = nil
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("stop the bench's hub: %w", err))
		}
	}
}

// connect starts the bench's own hub, or checks --target; it returns the
// description of what is measured.
func (b *bench) connect(ctx context.Context) (string, error) {
	if b.o.target != "" {
		u, err := loopbackTarget(ctx, b.o.target)
		if err != nil {
			return "", err
		}
		b.base, b.hostPort, b.user, b.password = "http://"+u.Host, u.Host, b.o.user, b.o.password
		return "target " + b.o.target + " (another process: memory is n/a)", nil
	}
	cfg := b.storeConfig()
	dir, err := os.MkdirTemp("", "hub-bench-")
	if err != nil {
		return "", err
	}
	b.tmp = dir
	m := NewMain()
	m.Config.Addr, m.Config.DataDir = "127.0.0.1:0", dir
	m.Config.EventStore, m.Config.ReadModel, m.Config.Broker = b.o.eventStore, b.o.readModel, b.o.broker
	// Keys and channels of their own: bench alerts must never reach the
	// wall displays of a deployment that shares the Redis.
	m.Config.RedisPrefix = "vigia-bench-" + randomHex(4) + ":"
	m.Config.LogLevel = "error"
	b.user, b.password = "bench-"+randomHex(4), randomHex(16)
	m.Config.AdminUser, m.Config.AdminPassword = b.user, b.password
	if err := m.Config.Validate(); err != nil {
		return "", fmt.Errorf("configuration: %w", err)
	}
	m.PasswordParams = auth.TestParams // the bench admin only; logins are not what is measured
	m.Log = newLogger(b.stderr, "error", "auto")
	if err := m.Open(ctx); err != nil {
		return "", fmt.Errorf("start the bench's hub: %w", err)
	}
	b.hub = m
	b.base, b.hostPort = "http://"+m.Addr(), m.Addr()
	mode := "embedded default: SQLite event store (WAL, synchronous=FULL), memory read model, in-process broker"
	if b.o.eventStore != "" || b.o.readModel != "memory" || b.o.broker != "memory" {
		mode = fmt.Sprintf("scaled out: event store %s, read model %s, broker %s", cfg.eventStoreKind(), kindOf(b.o.readModel), kindOf(b.o.broker))
	}
	return "hub in this process on " + b.base + "; " + mode, nil
}

func kindOf(u string) string {
	if k, _, ok := strings.Cut(u, "://"); ok {
		return k
	}
	return u
}

// storeConfig is the configuration of the store the store scenarios use:
// the bench hub's, or with --target the configured one or a temporary file.
func (b *bench) storeConfig() *Config {
	c := &Config{EventStore: b.o.eventStore, DataDir: b.tmp}
	return c
}

// checkEmpty refuses to write into a configured store that holds events.
func (b *bench) checkEmpty(ctx context.Context, c *Config) error {
	if c.EventStore == "" || b.o.allowNonEmpty {
		return nil
	}
	if c.eventStoreKind() == "sqlite" {
		if _, err := os.Stat(c.sqlitePath()); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	st, err := openEventStore(ctx, c, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	evs, err := st.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 1)
	if err != nil {
		return fmt.Errorf("check the event store is empty: %w", err)
	}
	if len(evs) > 0 {
		return fmt.Errorf("the event store %s already holds events; the bench writes thousands of alerts and events into it: point --eventstore at a scratch database or schema, or pass --allow-nonempty", redact(c.EventStore))
	}
	return nil
}

// checkReadModel refuses a Postgres read model that already holds a
// projection (the rebuild scenario swaps its tables) unless
// --allow-nonempty.
func (b *bench) checkReadModel(ctx context.Context) error {
	if !b.pgReadModel() || b.o.allowNonEmpty {
		return nil
	}
	m, err := rmpostgres.Open(ctx, b.o.readModel)
	if err != nil {
		return err
	}
	defer m.Close()
	cp, err := m.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if !cp.IsZero() {
		return fmt.Errorf("the read model %s already holds a projection (checkpoint %s); the bench rebuilds it: point --readmodel at a scratch schema, or pass --allow-nonempty", redact(b.o.readModel), cp)
	}
	return nil
}

func (b *bench) pgReadModel() bool {
	return strings.HasPrefix(b.o.readModel, "postgres://") || strings.HasPrefix(b.o.readModel, "postgresql://")
}

// loopbackTarget parses --target and refuses anything not on this machine:
// the bench is a load generator. Names must resolve only to loopback
// addresses, and the address found is the one used.
func loopbackTarget(ctx context.Context, target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--target %q: want a URL such as http://127.0.0.1:8080", target)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("--target %q: only http:// (a hub on this machine, not behind TLS)", target)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("--target %q: give the hub's base URL only (scheme, host and port)", target)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	refuse := fmt.Errorf("--target %q: refusing a non-loopback target; hub bench generates heavy load and only runs against a hub on this machine (127.0.0.0/8, ::1, localhost)", target)
	var ip net.IP
	if ip = net.ParseIP(host); ip == nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("--target %q: resolve %s: %v", target, host, err)
		}
		for _, a := range addrs {
			if !a.IP.IsLoopback() {
				return nil, refuse
			}
		}
		ip = addrs[0].IP
	}
	if !ip.IsLoopback() {
		return nil, refuse
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(ip.String(), port)}, nil
}

// profile starts a CPU profile for a scenario when --profile-dir is set,
// and watches how much of the machine other processes take meanwhile.
func (b *bench) profile(scenario string) (stop func()) {
	services := b.o.eventStore != "" && !strings.HasPrefix(b.o.eventStore, "sqlite:") || b.o.readModel != "memory" || b.o.broker != "memory"
	c0 := takeCPU(services)
	watch := func() {
		c1 := takeCPU(services)
		capacity := c1.total - c0.total
		other := (c1.busy - c0.busy) - (c1.ours - c0.ours) - (c1.kernel - c0.kernel)
		if capacity > 0 && float64(other)/float64(capacity) > 0.05 {
			besides := ""
			if services {
				besides = " (besides the Postgres and Redis servers, counted as the bench's)"
			}
			b.note("%s: other processes on this machine used %.0f%% of its CPU meanwhile%s; these numbers understate the hub", scenario, 100*float64(other)/float64(capacity), besides)
		}
	}
	if b.o.profileDir == "" {
		return watch
	}
	f, err := os.Create(filepath.Join(b.o.profileDir, scenario+".cpu.pprof"))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		b.note("cpu profile of %s: %v", scenario, err)
		if f != nil {
			f.Close()
		}
		return watch
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.note("cpu profile of %s: %v", scenario, err)
		}
		watch()
	}
}

// cpuSnap is the CPU time the machine and this bench (with its reaped
// child processes) have used so far.
type cpuSnap struct{ busy, total, ours, kernel time.Duration }

// takeCPU reads /proc/stat (all CPUs, in USER_HZ = 100 ticks a second),
// getrusage, and the CPU time of kernel threads (and, with services, of
// the Postgres and Redis servers). Busy counts user, nice
// and system time only: interrupt time, most of it loopback networking,
// is the bench's own; kernel threads (the file system journal committing
// the store's fsyncs, workqueues) work for whoever asked, mostly the bench,
// so they are left out of "other processes" too.
func takeCPU(services bool) cpuSnap {
	var c cpuSnap
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return c
	}
	var total, busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i < 3 {
			busy += n
		}
	}
	const tick = 10 * time.Millisecond
	c.total, c.busy = time.Duration(total)*tick, time.Duration(busy)*tick
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			c.ours += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	c.kernel = kernelThreadsCPU(services) * tick
	return c
}

// kernelThreadsCPU sums the user and system ticks of kernel threads (the
// children of kthreadd, pid 2) and, when services is set, of the Postgres
// and Redis servers the bench is using (they work for it; so may other
// sessions' tests, which this then misses).
func kernelThreadsCPU(services bool) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum int64
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(raw)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		comm := s[open+1 : end]
		f := strings.Fields(s[end+1:])
		// f[0] is the state, f[1] the parent, f[11] and f[12] user and
		// system time, f[13] and f[14] those of reaped children (the
		// Postgres backends of connections that closed meanwhile).
		if len(f) < 15 {
			continue
		}
		kthread := f[1] == "2" || d.Name() == "2"
		service := services && (comm == "postgres" || comm == "redis-server")
		if !kthread && !service {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// --- HTTP ---

// httpResult is what the bench needs of one answer.
type httpResult struct {
	status int
	etag   string
	body   []byte
}

// do sends one request as the bench user and returns the answer.
func (b *bench) do(method, path, ifMatch, body string) (httpResult, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(b.base + path)
	req.Header.SetMethod(method)
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	if err := b.http.Do(req, resp); err != nil {
		return httpResult{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return httpResult{status: resp.StatusCode(), etag: string(resp.Header.Peek("ETag")), body: slices.Clone(resp.Body())}, nil
}

func (b *bench) login() (string, error) {
	body, _ := json.Marshal(map[string]string{"username": b.user, "password": b.password})
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(b.base + "/api/auth/login")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := b.http.DoTimeout(req, resp, 30*time.Second); err != nil {
		return "", fmt.Errorf("log in to %s: %w", b.base, err)
	}
	if resp.StatusCode() != 200 {
		return "", fmt.Errorf("log in to %s as %s: HTTP %d %s", b.base, b.user, resp.StatusCode(), resp.Body())
	}
	var ck fasthttp.Cookie
	ck.SetKey(web.SessionCookie)
	if !resp.Header.Cookie(&ck) {
		return "", fmt.Errorf("log in to %s: no session cookie", b.base)
	}
	return web.SessionCookie + "=" + string(ck.Value()), nil
}

// declare creates an alert and returns its ID.
func (b *bench) declare(i int, title string) (string, error) {
	provs := domain.Provincias()
	var scope string
	switch p := provs[i%len(provs)]; i % 3 {
	case 0:
		scope = `"region":true`
	case 1:
		scope = `"provincias":["` + p.Code + `"]`
	default:
		codes := make([]string, 0, len(p.Comunas))
		for _, c := range p.Comunas {
			codes = append(codes, `"`+c.Code+`"`)
		}
		scope = `"comunas":[` + strings.Join(codes, ",") + `]`
	}
	hazards := domain.Hazards()
	body := fmt.Sprintf(`{"hazard":%q,"level":"amarilla","title":%q,"description":"Alerta de prueba de carga: el tiempo pronosticado para la zona indicada exige preparación de los equipos de respuesta.",%s}`,
		hazards[i%len(hazards)], title, scope)
	r, err := b.do("POST", "/api/alerts", "", body)
	if err != nil {
		return "", err
	}
	if r.status != 201 {
		return "", fmt.Errorf("declare an alert: HTTP %d %s", r.status, r.body)
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		return "", fmt.Errorf("declare an alert: %w", err)
	}
	return a.ID, nil
}

// --- reads ---

func (b *bench) reads(ctx context.Context) error {
	b.progress.start("reads: declaring alerts", nil)
	for i := range b.o.alerts {
		if _, err := b.declare(i, fmt.Sprintf("Alerta de lectura %d", i+1)); err != nil {
			b.progress.finish()
			return err
		}
	}
	b.progress.finish()
	c := b.o.readConcurrency
	name := fmt.Sprintf("GET /api/alerts, c=%d", c)
	var done, failed, size atomic.Int64
	lats := make([][]time.Duration, c)
	var firstErr firstError
	// Warm up: every connection opened, then timed from a common start.
	var ready, wg sync.WaitGroup
	gate := make(chan struct{})
	var deadline time.Time
	for i := range c {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(b.base + "/api/alerts")
			req.Header.Set("Cookie", b.cookie)
			err := b.http.Do(req, resp)
			size.Store(int64(len(resp.Body())))
			ready.Done()
			if err != nil {
				firstErr.set(err)
				return
			}
			<-gate
			l := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := b.http.Do(req, resp)
				d := time.Since(t0)
				if err != nil || resp.StatusCode() != 200 || len(resp.Body()) == 0 {
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("HTTP %d", resp.StatusCode())
					}
					firstErr.set(err)
					continue
				}
				l = append(l, d)
				done.Add(1)
			}
			lats[i] = l
		}()
	}
	ready.Wait()
	if err := firstErr.get(); err != nil {
		close(gate)
		wg.Wait()
		return fmt.Errorf("warm-up: %w", err)
	}
	b.progress.start("reads", func() string { return fmtInt(done.Load()) + " requests" })
	start := time.Now()
	deadline = start.Add(b.o.duration)
	close(gate)
	wg.Wait()
	elapsed := time.Since(start)
	b.progress.finish()
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return fmt.Errorf("no successful request: %v", firstErr.get())
	}
	s := summarize(all)
	rate := float64(len(all)) / elapsed.Seconds()
	row := benchRow{scenario: "reads", name: name, result: fmtRate(rate) + " req/s",
		p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "≥20,000 req/s, p99<50ms at c=500"}
	if c == 500 {
		row.verdict = verdict(rate >= 20000 && s.p99 < 50*time.Millisecond)
	}
	b.rows = append(b.rows, row)
	b.note("reads: each answer carried %.1f KB of JSON", float64(size.Load())/1000)
	if n := failed.Load(); n > 0 {
		b.note("reads: %d requests failed (first: %v)", n, firstErr.get())
	}
	return nil
}

// --- edits ---

func (b *bench) edits(ctx context.Context) error {
	n := b.o.operators
	b.progress.start("edits: declaring alerts", nil)
	ids := make([]string, n+1)
	for i := range ids {
		id, err := b.declare(i, fmt.Sprintf("Alerta de edición %d", i+1))
		if err != nil {
			b.progress.finish()
			return err
		}
		ids[i] = id
	}
	b.progress.finish()

	// Distinct alerts: no operator ever conflicts.
	var done atomic.Int64
	res := b.editLoop(ctx, "edits", n, &done, func(i int) string { return ids[i] })
	if res.err != nil {
		return res.err
	}
	rate := float64(res.ok) / res.elapsed.Seconds()
	s := summarize(res.lats)
	b.rows = append(b.rows, benchRow{scenario: "edits", name: fmt.Sprintf("PATCH, %d operators, own alerts", n),
		result: fmtRate(rate) + " cmd/s", p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "≥5,000 acknowledged edits/s with 50 operators"})
	if n == 50 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 5000)
	}
	if res.other > 0 || res.stale > 0 {
		b.note("edits on own alerts: %d unexpected 412s%s", res.stale, failures(res))
	}

	// One contended alert: everyone edits it; a 412 gives the current ETag.
	done.Store(0)
	res = b.editLoop(ctx, "edits (contended)", n, &done, func(int) string { return ids[n] })
	if res.err != nil {
		return res.err
	}
	attempts := res.ok + res.stale
	if attempts == 0 {
		return errors.New("contended alert: no answer")
	}
	s = summarize(res.lats)
	b.rows = append(b.rows, benchRow{scenario: "edits", name: fmt.Sprintf("PATCH, %d operators, one alert", n),
		result: fmt.Sprintf("412 rate %.1f%% of %s", 100*float64(res.stale)/float64(attempts), fmtInt(int64(attempts))),
		p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)})
	b.note("edits on one alert: %s edits/s accepted, %d 412s%s", fmtRate(float64(res.ok)/res.elapsed.Seconds()), res.stale, failures(res))
	return nil
}

func failures(r editResult) string {
	if r.other == 0 {
		return ""
	}
	return fmt.Sprintf(", %d other failures (first: %s)", r.other, r.firstOther)
}

type editResult struct {
	lats             []time.Duration
	ok, stale, other int
	firstOther       string
	elapsed          time.Duration
	err              error
}

// editLoop runs n operators for the duration, each PATCHing the alert
// alertOf(i) with the version it last saw (re-read from the ETag of a 412).
func (b *bench) editLoop(ctx context.Context, label string, n int, done *atomic.Int64, alertOf func(int) string) editResult {
	results := make([]editResult, n)
	var wg sync.WaitGroup
	b.progress.start(label, func() string { return fmtInt(done.Load()) + " edits" })
	start := time.Now()
	deadline := start.Add(b.o.duration)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			id := alertOf(i)
			cur, err := b.do("GET", "/api/alerts/"+id, "", "")
			if err != nil || cur.status != 200 {
				r.err = fmt.Errorf("read alert %s: %v %d", id, err, cur.status)
				return
			}
			etag := cur.etag
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				t0 := time.Now()
				res, err := b.do("PATCH", "/api/alerts/"+id, etag, fmt.Sprintf(`{"title":"Edición %d.%d","reason":"prueba de carga"}`, i, k))
				d := time.Since(t0)
				switch {
				case err != nil:
					r.other++
					r.firstOther = err.Error()
					continue
				case res.status == 200:
					r.ok++
					done.Add(1)
				case res.status == 412:
					r.stale++
				default:
					r.other++
					if r.firstOther == "" {
						r.firstOther = fmt.Sprintf("HTTP %d %s", res.status, res.body)
					}
					continue
				}
				r.lats = append(r.lats, d)
				etag = res.etag
			}
		}()
	}
	wg.Wait()
	out := editResult{elapsed: time.Since(start)}
	b.progress.finish()
	for _, r := range results {
		if r.err != nil && out.err == nil {
			out.err = r.err
		}
		out.lats = append(out.lats, r.lats...)
		out.ok += r.ok
		out.stale += r.stale
		out.other += r.other
		if out.firstOther == "" {
			out.firstOther = r.firstOther
		}
	}
	if out.ok == 0 && out.err == nil {
		out.err = fmt.Errorf("no edit accepted (first failure: %s)", out.firstOther)
	}
	return out
}

// --- push and memory ---

// push connects n WebSocket clients (in a child process), measures the
// hub's memory per idle connection, then edits one alert at a time and
// measures how long each edit takes to reach every client.
func (b *bench) push(ctx context.Context, n int) error {
	doPush, doMem := b.o.scenarios["push"], b.o.scenarios["memory"] && b.hub != nil
	id, err := b.declare(n, fmt.Sprintf("Alerta para %d pantallas", n))
	if err != nil {
		return err
	}
	var before memSample
	if doMem {
		before = sampleMemory()
	}
	b.progress.start(fmt.Sprintf("push: connecting %s WebSocket clients", fmtInt(int64(n))), nil)
	w, err := startWSWorker(ctx, b.stderr, wsWorkerConfig{
		URL:     "ws://" + b.hostPort + "/ws?topics=alerts",
		Header:  http.Header{"Cookie": {b.cookie}, "Origin": {b.base}},
		Clients: n,
		CPUProfile: func() string {
			if b.o.profileDir == "" {
				return ""
			}
			return filepath.Join(b.o.profileDir, fmt.Sprintf("clients-%d.cpu.pprof", n))
		}(),
	})
	if err != nil {
		b.progress.finish()
		return err
	}
	defer w.close()
	ready, err := w.waitReady(ctx, 60*time.Second+time.Duration(n)*5*time.Millisecond)
	b.progress.finish()
	if err != nil {
		return err
	}
	if ready.Note != "" {
		b.note("push, %d clients: %s", n, ready.Note)
	}
	if ready.Connected < n {
		return fmt.Errorf("only %d of %d WebSocket clients connected (first error: %s)", ready.Connected, n, ready.FirstErr)
	}
	if doMem {
		time.Sleep(500 * time.Millisecond) // hellos written, write buffers back in their pool
		after := sampleMemory()
		perConn := float64(after.rss-before.rss) / float64(n)
		b.rows = append(b.rows, benchRow{scenario: "memory", name: fmt.Sprintf("%s idle WebSockets", fmtInt(int64(n))),
			result: fmt.Sprintf("%.1f KiB/conn", perConn/1024), target: "≤32 KiB per idle connection", verdict: verdict(perConn <= 32*1024)})
		b.note("memory, %s idle WebSockets: VmRSS %s → %s; Go heap+stacks %.1f KiB/conn; %.1f goroutines/conn",
			fmtInt(int64(n)), fmtBytes(before.rss), fmtBytes(after.rss),
			float64(after.goMem-before.goMem)/float64(n)/1024, float64(after.goroutines-before.goroutines)/float64(n))
	}
	if !doPush {
		return nil
	}
	var edits atomic.Int64
	b.progress.start(fmt.Sprintf("push to %s clients", fmtInt(int64(n))), func() string { return fmtInt(edits.Load()) + " edits" })
	etag := `"0"`
	start := time.Now()
	var timeouts int
	var patchLats, waitLats []time.Duration
	for k := 0; (k == 0 || time.Since(start) < b.o.duration) && ctx.Err() == nil; k++ {
		t0 := time.Now()
		res, err := b.do("PATCH", "/api/alerts/"+id, etag, fmt.Sprintf(`{"title":"Aviso %d"}`, k))
		t200 := time.Now()
		patchLats = append(patchLats, t200.Sub(t0))
		if err != nil {
			b.progress.finish()
			return err
		}
		if res.status != 200 {
			b.progress.finish()
			return fmt.Errorf("edit: HTTP %d %s", res.status, res.body)
		}
		etag = res.etag
		key := id + ":" + strings.Trim(etag, `"`)
		if err := w.sent(key, t200); err != nil {
			b.progress.finish()
			return err
		}
		if !w.waitDone(ctx, key, 10*time.Second) {
			timeouts++
		}
		waitLats = append(waitLats, time.Since(t200))
		edits.Add(1)
	}
	elapsed := time.Since(start)
	b.progress.finish()
	rep, err := w.report(ctx)
	if err != nil {
		return err
	}
	if rep.Deliveries == 0 {
		return fmt.Errorf("no change notice reached a client (%d expected)", rep.Expected)
	}
	row := benchRow{scenario: "push", name: fmt.Sprintf("%s clients, %s edits", fmtInt(int64(n)), fmtInt(edits.Load())),
		result: fmtRate(float64(rep.Deliveries)/elapsed.Seconds()) + " deliveries/s",
		p50:    fmtDur(time.Duration(rep.P50)), p95: fmtDur(time.Duration(rep.P95)), p99: fmtDur(time.Duration(rep.P99)), max: fmtDur(time.Duration(rep.Max))}
	switch n {
	case 1000:
		row.target, row.verdict = "p99<25ms", verdict(time.Duration(rep.P99) < 25*time.Millisecond && rep.Deliveries == rep.Expected)
	case 10000:
		row.target, row.verdict = "p99<100ms", verdict(time.Duration(rep.P99) < 100*time.Millisecond && rep.Deliveries == rep.Expected)
	}
	b.rows = append(b.rows, row)
	if rep.Deliveries != rep.Expected || rep.Lost > 0 || timeouts > 0 {
		b.note("push, %d clients: %d of %d deliveries arrived; %d connections closed by the hub %v; %d edits not fully delivered within 10s",
			n, rep.Deliveries, rep.Expected, rep.Lost, rep.CloseCodes, timeouts)
	}
	b.note("push, %d clients: each edit answered in %s (median), then every client had it %s later (median; the parent learns it through a pipe); the client process used %s of CPU",
		n, fmtDur(summarize(patchLats).p50), fmtDur(summarize(waitLats).p50), w.cpu())
	if rep.Early > 0 {
		b.note("push, %d clients: %d deliveries arrived before the edit's HTTP 200 (counted as 0)", n, rep.Early)
	}
	return nil
}

// memSample is this process's memory at one moment, after a GC.
type memSample struct {
	rss        int64 // VmRSS, bytes
	goMem      int64 // heap in use + stacks
	goroutines int
}

func sampleMemory() memSample {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{rss: vmRSS(), goMem: int64(ms.HeapInuse + ms.StackInuse), goroutines: runtime.NumGoroutine()}
}

// vmRSS reads this process's resident set size from /proc/self/status.
func vmRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// raiseNoFile raises the soft limit on open files towards need, up to the
// hard limit, and says what it could not do.
func raiseNoFile(need uint64) string {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return "RLIMIT_NOFILE: " + err.Error()
	}
	if r.Cur >= need {
		return ""
	}
	want := min(need, r.Max)
	old := r.Cur
	r.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return fmt.Sprintf("RLIMIT_NOFILE: could not raise %d to %d: %v; the largest client counts may fail", old, want, err)
	}
	if want < need {
		return fmt.Sprintf("RLIMIT_NOFILE: hard limit %d is below the %d descriptors wanted; raised the soft limit to it, the largest client counts may fail (raise the hard limit: ulimit -Hn)", r.Max, need)
	}
	return ""
}

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

func startWSWorker(ctx context.Context, stderr io.Writer, cfg wsWorkerConfig) (*wsWorkerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start WebSocket clients: %w", err)
	}
	cmd := exec.Command(exe, "bench", "--ws-worker")
	cmd.Env = append(os.Environ(), benchChildEnv...)
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
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.cmd.Process.Pid))
	if err != nil {
		return "?"
	}
	// Fields after the command name (which is in parentheses): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (100 Hz).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return "?"
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return fmtDur(time.Duration(ut+st) * 10 * time.Millisecond)
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

// storeScenarios opens the store (the bench hub's, now stopped; or with
// --target the configured one or a temporary file) and runs appends and
// rebuild on it.
func (b *bench) storeScenarios(ctx context.Context) error {
	if b.tmp == "" {
		dir, err := os.MkdirTemp("", "hub-bench-")
		if err != nil {
			return err
		}
		b.tmp = dir
	}
	cfg := b.storeConfig()
	st, err := openEventStore(ctx, cfg, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	kind := cfg.eventStoreKind()
	if b.o.scenarios["appends"] {
		stop := b.profile("appends")
		b.appends(ctx, st, kind)
		stop()
	}
	if b.o.scenarios["rebuild"] && ctx.Err() == nil {
		if err := b.rebuild(ctx, st); err != nil {
			b.fail("rebuild", "memory", err)
		}
		if !b.pgReadModel() {
			b.rows = append(b.rows, benchRow{scenario: "rebuild", name: "postgres read model", result: "n/a",
				target: "≥30,000 events/s replaying 1,000,000"})
			b.note("rebuild into Postgres: n/a, no Postgres read model configured (--readmodel postgres://…, a scratch schema)")
		} else if ctx.Err() == nil {
			if err := b.rebuildPostgres(ctx, st); err != nil {
				b.fail("rebuild", "postgres read model", err)
			}
		}
	}
	return nil
}

// benchPayload is an alert declaration as the domain encodes it.
func benchPayload() (string, int, json.RawMessage) {
	typ, schema, data, err := domain.Encode(&domain.AlertDeclared{
		AlertID: uuid.NewString(), Hazard: domain.HazardIncendioForestal, Level: domain.LevelRoja,
		Provincias: []string{"058"}, Comunas: []string{"05801", "05804"}, Title: "Incendio forestal en Quilpué",
		Description: "Alerta Roja por incendio forestal que amenaza zonas habitadas.", At: time.Now().UTC(),
	})
	if err != nil {
		panic(err) // a fixed, valid event
	}
	return typ, schema, data
}

func (b *bench) appends(ctx context.Context, st eventstore.Store, kind string) {
	typ, schema, data := benchPayload()
	actor := eventstore.Actor{ID: "system:bench", Username: "bench", Role: "system"}
	batchOf := func(n int) []eventstore.EventData {
		evs := make([]eventstore.EventData, n)
		for i := range evs {
			evs[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: data, Actor: actor, CorrelationID: "bench"}
		}
		return evs
	}
	cases := []struct {
		name           string
		batch, writers int
	}{
		{kind + ", batch 1, 1 writer", 1, 1},
		{kind + ", batch 100, 1 writer", 100, 1},
		{fmt.Sprintf("%s, batch 1, %d writers", kind, b.o.operators), 1, b.o.operators},
	}
	for ci, c := range cases {
		if ctx.Err() != nil {
			return
		}
		var events atomic.Int64
		lats := make([][]time.Duration, c.writers)
		var wg sync.WaitGroup
		var firstErr firstError
		b.progress.start("appends: "+c.name, func() string { return fmtInt(events.Load()) + " events" })
		start := time.Now()
		deadline := start.Add(b.o.duration)
		for wi := range c.writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Streams outside the domain's prefixes: the hub's
				// projections never read them.
				stream := fmt.Sprintf("benchraw-%d-%d", ci, wi)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					evs := batchOf(c.batch)
					t0 := time.Now()
					if _, err := st.Append(ctx, stream, eventstore.Any, evs...); err != nil {
						firstErr.set(err)
						return
					}
					lats[wi] = append(lats[wi], time.Since(t0))
					events.Add(int64(c.batch))
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.progress.finish()
		if err := firstErr.get(); err != nil {
			b.fail("appends", c.name, err)
			continue
		}
		s := summarize(slices.Concat(lats...))
		b.rows = append(b.rows, benchRow{scenario: "appends", name: c.name,
			result: fmtRate(float64(events.Load())/elapsed.Seconds()) + " events/s",
			p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)})
	}
}

// rebuild fills the store with --rebuild-events events, then times a fresh
// memory read model catching up with the whole log, as the hub does at start.
func (b *bench) rebuild(ctx context.Context, st eventstore.Store) error {
	var written atomic.Int64
	b.progress.start("rebuild: appending events", func() string {
		return fmtInt(written.Load()) + " of " + fmtInt(int64(b.o.rebuildEvents))
	})
	t0 := time.Now()
	err := fillLog(ctx, st, b.o.rebuildEvents, &written)
	fill := time.Since(t0)
	b.progress.finish()
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	model := memory.New()
	p := projections.NewProjector(st, model, nil, zerolog.Nop())
	b.progress.start("rebuild: replaying into a memory read model", nil)
	stop := b.profile("rebuild") // the replay only, not the fill
	start := time.Now()
	n, err := p.CatchUp(ctx)
	elapsed := time.Since(start)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	rate := float64(n) / elapsed.Seconds()
	b.rows = append(b.rows, benchRow{scenario: "rebuild", name: fmt.Sprintf("memory read model, %s events", fmtInt(int64(n))),
		result: fmtRate(rate) + " events/s", max: fmtDur(elapsed), target: "≥100,000 events/s replaying 1,000,000"})
	if n >= 1_000_000 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 100_000)
	}
	b.note("rebuild: the %s events were appended at %s events/s (batches of up to 600) before the replay; max is the replay's whole time",
		fmtInt(written.Load()), fmtRate(float64(written.Load())/fill.Seconds()))
	return nil
}

// rebuildPostgres times the Postgres read model's own rebuild (replay into
// fresh tables, then swap) over the whole log the memory rebuild replayed.
func (b *bench) rebuildPostgres(ctx context.Context, st eventstore.Store) error {
	m, err := rmpostgres.Open(ctx, b.o.readModel)
	if err != nil {
		return err
	}
	defer m.Close()
	var done atomic.Int64
	b.progress.start("rebuild: replaying into the Postgres read model", func() string { return fmtInt(done.Load()) + " events" })
	stop := b.profile("rebuild-postgres")
	start := time.Now()
	res, err := m.Rebuild(ctx, st, rmpostgres.RebuildOptions{Progress: func(p rmpostgres.RebuildProgress) { done.Store(int64(p.Events)) }})
	elapsed := time.Since(start)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	rate := float64(res.Events) / elapsed.Seconds()
	b.rows = append(b.rows, benchRow{scenario: "rebuild", name: fmt.Sprintf("postgres read model, %s events", fmtInt(int64(res.Events))),
		result: fmtRate(rate) + " events/s", max: fmtDur(elapsed), target: "≥30,000 events/s replaying 1,000,000"})
	if res.Events >= 1_000_000 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 30_000)
	}
	return nil
}

// fillLog appends n events shaped like a year of operations: per round, a
// day's log gets 600 entries, three alerts 100 events each (declared, level
// and detail changes, two of three cancelled) and the day's roster 100 shift
// changes. Later rounds revisit the same 365 days.
func fillLog(ctx context.Context, st eventstore.Store, n int, written *atomic.Int64) error {
	actor := eventstore.Actor{ID: "system:bench", Username: "bench", Role: "operator"}
	provs := domain.Provincias()
	day0 := time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)
	entry := 0
	appendBatch := func(stream string, evs []domain.Event) error {
		if left := n - int(written.Load()); len(evs) > left {
			evs = evs[:left]
		}
		if len(evs) == 0 {
			return nil
		}
		data := make([]eventstore.EventData, len(evs))
		for i, e := range evs {
			typ, schema, raw, err := domain.Encode(e)
			if err != nil {
				return err
			}
			data[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw, Actor: actor, CorrelationID: "bench-fill"}
		}
		if _, err := st.Append(ctx, stream, eventstore.Any, data...); err != nil {
			return err
		}
		written.Add(int64(len(evs)))
		return nil
	}
	for round := 0; int(written.Load()) < n; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := day0.AddDate(0, 0, round%365)
		date := at.Format(time.DateOnly)
		prov := provs[round%len(provs)]
		comuna := prov.Comunas[round%len(prov.Comunas)].Code

		logEvs := make([]domain.Event, 600)
		for i := range logEvs {
			entry++
			logEvs[i] = &domain.LogEntryAdded{EntryID: fmt.Sprintf("bench-%d", entry), Date: date, Category: domain.Categories[i%len(domain.Categories)],
				Text: "Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.", Comunas: []string{comuna}, By: "bench", At: at.Add(time.Duration(i) * time.Minute)}
		}
		if err := appendBatch(domain.LogStream(date), logEvs); err != nil {
			return err
		}
		for a := range 3 {
			id := uuid.NewString()
			evs := make([]domain.Event, 0, 100)
			evs = append(evs, &domain.AlertDeclared{AlertID: id, Hazard: domain.Hazards()[(round+a)%len(domain.Hazards())], Level: domain.LevelAmarilla,
				Provincias: []string{prov.Code}, Comunas: []string{}, Title: "Alerta Amarilla por sistema frontal",
				Description: "Precipitaciones intensas y viento en altura.", At: at})
			level := domain.LevelAmarilla
			for i := 1; len(evs) < 99; i++ {
				t := at.Add(time.Duration(i) * time.Minute)
				if i%2 == 0 {
					next := domain.LevelRoja
					if level == domain.LevelRoja {
						next = domain.LevelAmarilla
					}
					evs = append(evs, &domain.AlertLevelChanged{From: level, To: next, Reason: "actualización", At: t})
					level = next
				} else {
					evs = append(evs, &domain.AlertDetailsUpdated{Title: fmt.Sprintf("Alerta por sistema frontal (%d)", i), Description: "Precipitaciones intensas y viento en altura.", At: t})
				}
			}
			if a < 2 {
				evs = append(evs, &domain.AlertCancelled{Reason: "condiciones normalizadas", At: at.Add(3 * time.Hour)})
			} else {
				evs = append(evs, &domain.AlertScopeChanged{Region: true, Provincias: []string{}, Comunas: []string{}, At: at.Add(3 * time.Hour)})
			}
			if err := appendBatch(domain.AlertStream(id), evs); err != nil {
				return err
			}
		}
		shifts := make([]domain.Event, 100)
		for i := range shifts {
			slot, start, end := "dia", "08:00", "20:00"
			if i%2 == 1 {
				slot, start, end = "noche", "20:00", "08:00"
			}
			shifts[i] = &domain.ShiftAssigned{Date: date, Slot: slot, Start: start, End: end, Lead: fmt.Sprintf("Jefa de turno %d", i%7),
				Operators: []string{"Operador A", "Operador B"}, At: at.Add(time.Duration(i) * time.Minute)}
		}
		if err := appendBatch(domain.RosterStream(date), shifts); err != nil {
			return err
		}
	}
	return nil
}

// --- output ---

func (b *bench) print(mode string) {
	fmt.Fprintf(b.stdout, "hub bench — %s\n", mode)
	fmt.Fprintf(b.stdout, "%d CPUs (GOMAXPROCS %d), %s, %v per timed case, %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), b.o.duration, time.Now().UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(b.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tCASE\tRESULT\tP50\tP95\tP99\tMAX\tTARGET\tVERDICT")
	order := map[string]int{}
	for i, s := range benchOrder {
		order[s] = i
	}
	rows := slices.Clone(b.rows)
	slices.SortStableFunc(rows, func(x, y benchRow) int { return order[x.scenario] - order[y.scenario] })
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.scenario, dash(r.name), dash(r.result),
			dash(r.p50), dash(r.p95), dash(r.p99), dash(r.max), dash(r.target), dash(r.verdict))
	}
	_ = tw.Flush()
	if len(b.notes) > 0 {
		fmt.Fprintln(b.stdout)
		for _, n := range b.notes {
			fmt.Fprintln(b.stdout, "note:", n)
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

// latencyStats are the percentiles of a sample.
type latencyStats struct{ p50, p95, p99, max time.Duration }

func summarize(d []time.Duration) latencyStats {
	if len(d) == 0 {
		return latencyStats{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return latencyStats{p50: at(0.50), p95: at(0.95), p99: at(0.99), max: d[len(d)-1]}
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

func fmtRate(r float64) string {
	if r < 100 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return fmtInt(int64(math.Round(r)))
}

// fmtInt prints n with thousands separators.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fmtBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// firstError keeps the first of many goroutines' errors.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// progress shows what the bench is doing: a line rewritten in place on a
// terminal, a plain line per step otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	stop chan struct{}
	done chan struct{}
}

func (p *progress) start(label string, status func() string) {
	p.finish()
	if !p.tty {
		fmt.Fprintf(p.w, "bench: %s\n", label)
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		begin := time.Now()
		for {
			select {
			case <-stop:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				s := ""
				if status != nil {
					s = status()
				}
				fmt.Fprintf(p.w, "\r\033[Kbench: %s  %.1fs  %s", label, time.Since(begin).Seconds(), s)
			}
		}
	}(p.stop, p.done)
}

func (p *progress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop, p.done = nil, nil
}

// --- history (time travel) ---

// historyGenVersion names genHistoryYear's output in cache file names:
// bump it whenever the generator changes what it writes.
const historyGenVersion = 1

// historyCacheMin is the smallest generated year kept between runs (in
// the system's temporary directory): smaller ones are quick to write again.
const historyCacheMin = 100_000

// historyYearPath is where a generated year of n events is cached.
func historyYearPath(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("vigia-history-v%d-%d.db", historyGenVersion, n))
}

// ensureHistoryYear returns the path of an embedded event store holding
// genHistoryYear's n events: path itself when it exists already (a
// previous run made it), else written there first (into a temporary name,
// renamed when complete, so that an interrupted run never leaves half a
// year behind).
func ensureHistoryYear(ctx context.Context, path string, n int, written *atomic.Int64) (reused bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return true, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(tmp + suffix)
		}
	}()
	if err := genHistoryYear(ctx, tmp, n, written); err != nil {
		return false, err
	}
	// Closing the store checkpointed its WAL into the file; should one be
	// left, it goes along (SQLite replays it at the next open).
	if _, err := os.Stat(tmp + "-wal"); err == nil {
		if err := os.Rename(tmp+"-wal", path+"-wal"); err != nil {
			return false, err
		}
	}
	return false, os.Rename(tmp, path)
}

// historyAppend is one append of the generated year.
type historyAppend struct {
	at     time.Time
	stream string
	evs    []domain.Event
}

var historyTexts = []string{
	"Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.",
	"CONAF informa foco de incendio forestal controlado; se mantiene vigilancia.",
	"Corte de energía en sectores altos; la empresa eléctrica estima reposición en 4 horas.",
	"Oleaje anormal en el borde costero; Capitanía de Puerto cierra playas.",
	"Sin novedades en la red de comunicaciones; prueba de radio exitosa con las comunas.",
	"Municipio reporta anegamiento de calzada; se coordina apoyo de maquinaria.",
	"Coordinación con Carabineros por desvío de tránsito en ruta 68.",
	"Sistema de alerta de tsunami probado sin observaciones.",
}

// genHistoryYear writes a year of operations into a new embedded store at
// path, stamped day by day from 1 January 2025 in America/Santiago (so
// both DST changes are in it), until n events: each day's roster (three
// shifts assigned the evening before, one reassigned during the day), the
// day's informe at 09:00, alerts declared at random times (one per ~300
// events of the day, at least one) that change level, details or scope a
// few times over their life and are cancelled after one to seven days (one
// in ten lasts 20 to 60), and the rest novedades, written in half-hour
// batches, one in a hundred corrected half an hour later. It is
// deterministic.
func genHistoryYear(ctx context.Context, path string, n int, written *atomic.Int64) error {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return err
	}
	var clock time.Time
	st, err := sqlite.Open(path, sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		return err
	}
	defer st.Close()
	rng := mrand.New(mrand.NewPCG(2025, historyGenVersion))
	actors := []eventstore.Actor{{ID: "u-ana", Username: "ana", Role: "operator"}, {ID: "u-beto", Username: "beto", Role: "operator"},
		{ID: "u-sofia", Username: "sofia", Role: "supervisor"}, {ID: "ingest:imap", Username: "ingest:imap", Role: "system"}}
	provs := domain.Provincias()
	comuna := func() string {
		p := provs[rng.IntN(len(provs))]
		return p.Comunas[rng.IntN(len(p.Comunas))].Code
	}
	scope := func() (bool, []string, []string) {
		switch rng.IntN(4) {
		case 0:
			return true, []string{}, []string{}
		case 1:
			return false, []string{provs[rng.IntN(len(provs))].Code}, []string{}
		}
		return false, []string{}, []string{comuna(), comuna()}
	}
	newID := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return uuid.Must(uuid.FromBytes(b[:])).String()
	}
	perDay := max(n/365, 1)
	alertsPerDay := max(perDay/300, 1)
	var pending []historyAppend // alert events of later days
	entry := 0
	for day := 0; int(written.Load()) < n; day++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		start, end := projections.Midnight(2025, 1, 1+day, loc), projections.Midnight(2025, 1, 2+day, loc)
		length := end.Sub(start)
		at := func(from, to time.Duration) time.Time {
			return start.Add(from + time.Duration(rng.Int64N(int64(to-from))))
		}
		date, tomorrow := start.Format(time.DateOnly), end.Format(time.DateOnly)
		var today []historyAppend

		// Tomorrow's roster, this evening; one of today's shifts changes.
		slots := [][3]string{{"am", "08:00", "16:00"}, {"pm", "16:00", "00:00"}, {"noche", "00:00", "08:00"}}
		shift := func(date string, s [3]string, t time.Time) *domain.ShiftAssigned {
			return &domain.ShiftAssigned{Date: date, Slot: s[0], Start: s[1], End: s[2], Lead: fmt.Sprintf("Jefa de turno %d", rng.IntN(7)),
				Operators: []string{fmt.Sprintf("Operador %d", rng.IntN(12)), fmt.Sprintf("Operadora %d", rng.IntN(12))}, At: t.UTC()}
		}
		t18 := start.Add(length - 6*time.Hour)
		var roster []domain.Event
		for _, s := range slots {
			roster = append(roster, shift(tomorrow, s, t18))
		}
		today = append(today, historyAppend{at: t18, stream: domain.RosterStream(tomorrow), evs: roster})
		tr := at(time.Hour, length-time.Hour)
		today = append(today, historyAppend{at: tr, stream: domain.RosterStream(date), evs: []domain.Event{shift(date, slots[rng.IntN(3)], tr)}})
		t9 := start.Add(9 * time.Hour)
		today = append(today, historyAppend{at: t9, stream: domain.InformeStream(date), evs: []domain.Event{&domain.InformeReceived{
			InformeHeader: domain.InformeHeader{Date: date, Number: fmt.Sprintf("%d/%d", day+1, 2025), Title: "Informe diario de situación regional",
				Source: "correo", IssuedAt: t9.Add(-30 * time.Minute).UTC(), Summary: "Situación regional sin eventos mayores."}, At: t9.UTC()}}})

		// Alerts, each with its future.
		events := 4 + 1
		for range alertsPerDay {
			id, t0 := newID(), at(0, length)
			hz := domain.Hazards()[rng.IntN(len(domain.Hazards()))]
			level := domain.Levels[rng.IntN(2)]
			region, ps, cs := scope()
			today = append(today, historyAppend{at: t0, stream: domain.AlertStream(id), evs: []domain.Event{&domain.AlertDeclared{AlertID: id, Hazard: hz,
				Level: level, Region: region, Provincias: ps, Comunas: cs, Title: "Alerta por " + strings.ToLower(hz.Label()),
				Description: "Declarada por el director regional según el informe técnico.", At: t0.UTC()}}})
			life := time.Duration(24+rng.IntN(6*24)) * time.Hour
			if rng.IntN(10) == 0 {
				life = time.Duration(20+rng.IntN(41)) * 24 * time.Hour
			}
			follow := rng.IntN(7)
			times := make([]time.Time, follow)
			for i := range times {
				times[i] = t0.Add(time.Duration(1 + rng.Int64N(int64(life))))
			}
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			for i, t := range times {
				var e domain.Event
				switch rng.IntN(3) {
				case 0:
					next := domain.Levels[(level.Rank()+rng.IntN(2))%3]
					e = &domain.AlertLevelChanged{From: level, To: next, Reason: "evolución del evento", At: t.UTC()}
					level = next
				case 1:
					e = &domain.AlertDetailsUpdated{Title: fmt.Sprintf("Alerta por %s (actualización %d)", strings.ToLower(hz.Label()), i+1),
						Description: "Actualizada según el último reporte de terreno.", At: t.UTC()}
				default:
					region, ps, cs := scope()
					e = &domain.AlertScopeChanged{Region: region, Provincias: ps, Comunas: cs, Reason: "cambio de cobertura", At: t.UTC()}
				}
				pending = append(pending, historyAppend{at: t, stream: domain.AlertStream(id), evs: []domain.Event{e}})
			}
			tc := t0.Add(life + time.Minute)
			pending = append(pending, historyAppend{at: tc, stream: domain.AlertStream(id), evs: []domain.Event{&domain.AlertCancelled{Reason: "condiciones normalizadas", At: tc.UTC()}}})
			events += 2 + follow
		}

		// The alert events that fall today, of alerts declared earlier or
		// just now.
		kept := pending[:0]
		for _, a := range pending {
			if a.at.Before(end) {
				today = append(today, a)
			} else {
				kept = append(kept, a)
			}
		}
		pending = kept

		// Novedades, in half-hour batches; a few corrected later.
		logs := max(perDay-events, 1)
		var corrections []*domain.LogEntryCorrected
		for b := range 48 {
			tb := start.Add(length * time.Duration(b+1) / 49)
			var evs []domain.Event
			for _, c := range corrections {
				c.At = tb.UTC()
				evs = append(evs, c)
			}
			corrections = corrections[:0]
			for i := logs * b / 48; i < logs*(b+1)/48; i++ {
				entry++
				by := actors[rng.IntN(len(actors))].Username
				id := fmt.Sprintf("h%07d", entry)
				evs = append(evs, &domain.LogEntryAdded{EntryID: id, Date: date, Category: domain.Categories[rng.IntN(len(domain.Categories))],
					Text: historyTexts[rng.IntN(len(historyTexts))], Comunas: []string{comuna()}, By: by, At: tb.UTC()})
				if rng.IntN(100) == 0 {
					corrections = append(corrections, &domain.LogEntryCorrected{EntryID: id, Category: domain.CategoryIncidente,
						Text: historyTexts[rng.IntN(len(historyTexts))] + " (corregido)", Comunas: []string{comuna()}, Reason: "dato erróneo", By: by})
				}
			}
			if len(evs) > 0 {
				today = append(today, historyAppend{at: tb, stream: domain.LogStream(date), evs: evs})
			}
		}

		slices.SortStableFunc(today, func(a, b historyAppend) int { return a.at.Compare(b.at) })
		for _, a := range today {
			if left := n - int(written.Load()); left <= 0 {
				break
			} else if len(a.evs) > left {
				a.evs = a.evs[:left]
			}
			data := make([]eventstore.EventData, len(a.evs))
			for i, e := range a.evs {
				typ, schema, raw, err := domain.Encode(e)
				if err != nil {
					return err
				}
				data[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw,
					Actor: actors[rng.IntN(len(actors))], CorrelationID: "bench-history"}
			}
			clock = a.at
			if _, err := st.Append(ctx, a.stream, eventstore.Any, data...); err != nil {
				return err
			}
			written.Add(int64(len(a.evs)))
		}
	}
	return nil
}

// history times the informe of random days over a generated year of
// --rebuild-events events (cached when large): first the snapshotter's
// pass over the whole log, then informes with its snapshots and without.
func (b *bench) history(ctx context.Context) error {
	n := b.o.rebuildEvents
	path := historyYearPath(n)
	if n < historyCacheMin {
		if b.tmp == "" {
			dir, err := os.MkdirTemp("", "hub-bench-")
			if err != nil {
				return err
			}
			b.tmp = dir
		}
		path = filepath.Join(b.tmp, "history.db")
	}
	var written atomic.Int64
	b.progress.start("history: generating a year of operations", func() string { return fmtInt(written.Load()) + " of " + fmtInt(int64(n)) })
	t0 := time.Now()
	reused, err := ensureHistoryYear(ctx, path, n, &written)
	b.progress.finish()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if reused {
		b.note("history: reused the generated year in %s (delete it to generate it again)", path)
	} else {
		b.note("history: generated %s events in %s into %s", fmtInt(written.Load()), time.Since(t0).Round(time.Second), path)
	}
	st, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return err
	}
	snaps := memory.NewSnapshots()
	h := projections.NewHistory(st, snaps, loc, zerolog.Nop())
	b.progress.start("history: writing day snapshots", nil)
	stop := b.profile("history-snapshots")
	t0 = time.Now()
	events, made, err := h.CatchUp(ctx)
	took := time.Since(t0)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	b.rows = append(b.rows, benchRow{scenario: "history", name: fmt.Sprintf("day snapshots of %s events", fmtInt(int64(events))),
		result: fmt.Sprintf("%d snapshots", made), max: fmtDur(took)})

	all, err := st.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 1)
	if err != nil || len(all) == 0 {
		return fmt.Errorf("read the first event: %v", err)
	}
	first := all[0].RecordedAt.In(loc)
	days := made + 1 // a snapshot at the end of every day but the last
	rng := mrand.New(mrand.NewPCG(7, 7))
	randomDay := func() (string, time.Time, time.Time) {
		d := projections.Midnight(first.Year(), first.Month(), first.Day()+rng.IntN(days), loc)
		s, e, _ := projections.DayBounds(d.Format(time.DateOnly), loc)
		return d.Format(time.DateOnly), s, e
	}
	cases := []struct {
		name string
		h    *projections.History
		do   func(h *projections.History) error
		// most bounds the cases without snapshots, each of which replays
		// the log from its start.
		most int
	}{
		{"informe of a random day, at its end, with snapshots", h, func(h *projections.History) error {
			date, _, end := randomDay()
			_, err := h.Informe(ctx, date, end, eventstore.Position{})
			return err
		}, 0},
		{"informe of a random day, at a random moment of it, with snapshots", h, func(h *projections.History) error {
			date, s, e := randomDay()
			_, err := h.Informe(ctx, date, s.Add(time.Duration(rng.Int64N(int64(e.Sub(s))))), eventstore.Position{})
			return err
		}, 0},
		{"changes of a random day, with snapshots", h, func(h *projections.History) error {
			date, _, _ := randomDay()
			_, err := h.Changes(ctx, date)
			return err
		}, 0},
		{"informe of a random day, at its end, without snapshots", projections.NewHistory(st, nil, loc, zerolog.Nop()), func(h *projections.History) error {
			date, _, end := randomDay()
			_, err := h.Informe(ctx, date, end, eventstore.Position{})
			return err
		}, 5},
	}
	stop = b.profile("history")
	defer stop()
	for _, c := range cases {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.progress.start("history: "+c.name, nil)
		var lats []time.Duration
		deadline := time.Now().Add(b.o.duration)
		for len(lats) < 3 || (time.Now().Before(deadline) && (c.most == 0 || len(lats) < c.most)) {
			t := time.Now()
			if err := c.do(c.h); err != nil {
				b.progress.finish()
				return err
			}
			lats = append(lats, time.Since(t))
		}
		b.progress.finish()
		s := summarize(lats)
		row := benchRow{scenario: "history", name: c.name, result: fmt.Sprintf("%s requests", fmtInt(int64(len(lats)))),
			p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)}
		if strings.HasPrefix(c.name, "informe") && strings.HasSuffix(c.name, "with snapshots") {
			row.target = "<200 ms on a year of ≥1,000,000 events"
			if events >= 1_000_000 {
				row.verdict = verdict(s.max < 200*time.Millisecond)
			}
		}
		b.rows = append(b.rows, row)
	}
	return nil
}
