package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/senapred-valparaiso/vigia/eventstore"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

const usage = `Measures a hub and prints one table: HTTP reads and edits, push latency to
WebSocket clients, resident memory per idle connection, informe uploads,
raw appends into the event store and a rebuild of the read model.

By default it starts a hub of its own, the hub binary of --hub run as a
child process (hub serve), on 127.0.0.1, with its data in a temporary
directory that is removed afterwards (embedded SQLite, memory read model,
in-process broker). --eventstore, --readmodel and --broker
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
           one alert, re-reading the ETag from each 412: the 412 rate; then 6
           writers POSTing novedades to today's log: commands/s and 409s
  push     for each N in --clients: N WebSocket clients (topics=alerts), one
           edit at a time, the next when every client has the previous one:
           time from the edit's HTTP 200 to its arrival at each client,
           p50/p99/max, and deliveries/s
  memory   for each N in --clients: the hub's resident memory (VmRSS, after
           GC) with N idle WebSocket connections minus without, divided by N
  intake   uploads of distinct variants of the sample informe (--informe;
           the same document with another zip comment, so another file):
           --intake-latency of them one at a time, each timed from the
           upload to its job's done notice on a WebSocket (parse + append);
           then --intake-uploads at once from as many goroutines: the time
           until all are done, and the hub's VmRSS at its peak (sampled
           every 5 ms) minus before (after a GC). Not with --target
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
--profile-dir writes a CPU profile per scenario (of the bench's hub for
reads, edits, push and memory; of this process for appends, rebuild and
history, which use the store directly), and one of the WebSocket clients'
process per client count.`

// scenarioOrder is every scenario, in the order they run.
var scenarioOrder = []string{"reads", "edits", "push", "memory", "intake", "appends", "rebuild", "history"}

// ErrUsage marks a command line mistake already reported on stderr.
var ErrUsage = errors.New("usage")

// Main is one invocation of hub-bench: its arguments come to Run, its
// environment and standard streams are here, so that tests can drive it.
type Main struct {
	// Getenv reads HUB_EVENTSTORE, HUB_READMODEL, HUB_BROKER and
	// HUB_BENCH_PASSWORD (os.Getenv in the command).
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ChildEnv is added to the WebSocket worker's environment (tests set
	// what makes the test binary act as hub-bench).
	ChildEnv []string
}

// Run parses args (hub-bench's flags) and runs the bench, or the
// WebSocket worker with --ws-worker. It returns flag.ErrHelp after
// printing the help, and ErrUsage after reporting a bad command line.
func (m *Main) Run(ctx context.Context, args []string) error {
	o, err := parse(args, m.Getenv, m.Stderr)
	if err != nil {
		return err
	}
	if o.wsWorker {
		return runWSWorker(ctx, m.Stdin, m.Stdout)
	}
	b := &bench{o: o, stdout: m.Stdout, stderr: m.Stderr, childEnv: m.ChildEnv,
		progress: &progress{w: m.Stderr, tty: isTerminal(m.Stderr)}}
	return b.run(ctx)
}

type options struct {
	target, user, password string
	duration               time.Duration
	scenarios              map[string]bool
	clients                []int
	readConcurrency        int
	operators              int
	alerts                 int
	rebuildEvents          int
	intakeUploads          int
	intakeLatency          int
	informe                string
	profileDir             string
	allowNonEmpty          bool
	eventStore, readModel  string
	broker                 string
	hubPath                string
	wsWorker               bool
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	var scenarios, clients string
	fs := flag.NewFlagSet("hub-bench", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "", "URL of a running hub to load (loopback only, e.g. http://127.0.0.1:8080); empty starts a hub of its own (--hub)")
	fs.StringVar(&o.user, "user", "", "with --target: the username to log in as (operator or above)")
	fs.StringVar(&o.password, "password", "", "with --target: its password (or HUB_BENCH_PASSWORD)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each timed case runs")
	fs.StringVar(&scenarios, "scenarios", strings.Join(scenarioOrder, ","), "comma-separated scenarios to run, or all")
	fs.StringVar(&clients, "clients", "1000,10000", "comma-separated WebSocket client counts for push and memory")
	fs.IntVar(&o.readConcurrency, "read-concurrency", 500, "concurrent keep-alive connections for reads")
	fs.IntVar(&o.operators, "operators", 50, "concurrent operators for edits (and writers for appends)")
	fs.IntVar(&o.alerts, "alerts", 20, "alerts in force that reads list (declared before reads)")
	fs.IntVar(&o.rebuildEvents, "rebuild-events", 1_000_000, "events appended, then replayed, by rebuild")
	fs.IntVar(&o.intakeUploads, "intake-uploads", 100, "informes uploaded at once by intake")
	fs.IntVar(&o.intakeLatency, "intake-latency", 200, "informes uploaded one at a time by intake, for its latency")
	fs.StringVar(&o.informe, "informe", defaultInforme, "the sample informe (.docx) intake uploads; a relative path is tried from the working directory, then from the repository root")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write a CPU profile per scenario to DIR/<scenario>.cpu.pprof")
	fs.BoolVar(&o.allowNonEmpty, "allow-nonempty", false, "let the bench write into an event store that already holds events")
	stringFlag(fs, getenv, &o.eventStore, "eventstore", "HUB_EVENTSTORE", "", "event store of the bench's hub, appends and rebuild: empty for a temporary SQLite file, sqlite:///path or postgres://…")
	stringFlag(fs, getenv, &o.readModel, "readmodel", "HUB_READMODEL", "memory", "read model of the bench's hub: memory or postgres://…")
	stringFlag(fs, getenv, &o.broker, "broker", "HUB_BROKER", "memory", "broker of the bench's hub: memory or redis://…")
	fs.StringVar(&o.hubPath, "hub", "", "the hub binary the bench starts (hub serve) when there is no --target; empty for the hub next to this binary (bin/hub after make build)")
	fs.BoolVar(&o.wsWorker, "ws-worker", false, "internal: run as the WebSocket client process that hub-bench starts (reads its orders on stdin)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	if o.wsWorker {
		return o, nil
	}
	if o.password == "" {
		o.password = getenv("HUB_BENCH_PASSWORD")
	}
	bad := func(format string, a ...any) (*options, error) {
		fmt.Fprintf(stderr, "hub-bench: "+format+"\n", a...)
		return nil, ErrUsage
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "all":
			for _, x := range scenarioOrder {
				o.scenarios[x] = true
			}
		case slices.Contains(scenarioOrder, s):
			o.scenarios[s] = true
		default:
			return bad("unknown scenario %q (want %s or all)", s, strings.Join(scenarioOrder, ","))
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
	case o.readConcurrency < 1, o.operators < 1, o.alerts < 0, o.rebuildEvents < 1, o.intakeUploads < 1, o.intakeLatency < 1:
		return bad("--read-concurrency, --operators, --rebuild-events, --intake-uploads and --intake-latency must be at least 1, --alerts at least 0")
	case o.target != "" && (o.user == "" || o.password == ""):
		return bad("--target needs --user and --password (or HUB_BENCH_PASSWORD)")
	case o.target == "" && o.user != "":
		return bad("--user is for --target; the bench's own hub gets a bench admin")
	}
	return o, nil
}

// bench is one run of hub-bench.
type bench struct {
	o        *options
	stdout   io.Writer
	stderr   io.Writer
	progress *progress

	childEnv []string
	hub      *hubProc // the bench's own hub, nil with --target
	tmp      string   // the temporary data directory
	base     string   // http://host:port
	hostPort string
	user     string
	password string
	http     *fasthttp.HostClient
	cookie   string
	informe  []byte // the sample informe, for intake

	rows  []tableRow
	notes []string
	errs  []error
}

// tableRow is one line of the table. Empty cells print as "-".
type tableRow struct {
	scenario, name, result string
	p50, p95, p99, max     string
	target, verdict        string
}

func (b *bench) note(format string, a ...any) { b.notes = append(b.notes, fmt.Sprintf(format, a...)) }

// fail records a scenario that could not produce its numbers: its rows say
// so and the command exits non-zero after printing the table.
func (b *bench) fail(scenario, name string, err error) {
	b.errs = append(b.errs, fmt.Errorf("%s %s: %w", scenario, name, err))
	b.rows = append(b.rows, tableRow{scenario: scenario, name: name, result: "error (see notes)"})
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
			err = errors.Join(err, b.hub.stop())
		}
		if b.tmp != "" {
			err = errors.Join(err, os.RemoveAll(b.tmp))
		}
	}()
	if b.o.scenarios["intake"] && b.o.target == "" {
		if b.informe, err = readInforme(b.o.informe); err != nil {
			return err
		}
	}
	if err := b.checkEmpty(ctx); err != nil {
		return err
	}
	if err := b.checkReadModel(ctx); err != nil {
		return err
	}
	mode := "the event store directly (no HTTP scenario selected)"
	if b.o.scenarios["reads"] || b.o.scenarios["edits"] || b.o.scenarios["push"] || b.o.scenarios["memory"] || b.o.scenarios["intake"] {
		if mode, err = b.connect(ctx); err != nil {
			return err
		}
		b.http = &fasthttp.HostClient{
			Addr: b.hostPort, MaxConns: max(b.o.readConcurrency, b.o.operators, b.o.intakeUploads) + 16,
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

// httpScenarios runs reads, edits, push, memory and intake against the hub, then
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
		b.rows = append(b.rows, tableRow{scenario: "memory", name: "idle WebSockets", result: "n/a", target: "≤32 KiB per idle connection"})
		b.note("memory: n/a with --target, the hub is another process; run hub-bench without --target to measure it")
	}
	run("intake", b.intake)
	b.http.CloseIdleConnections()
	if b.hub != nil {
		err := b.hub.stop()
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
	dir, err := os.MkdirTemp("", "hub-bench-")
	if err != nil {
		return "", err
	}
	b.tmp = dir
	b.user, b.password = "bench-"+randomHex(4), randomHex(16)
	h, err := startHub(ctx, hubConfig{
		path: b.o.hubPath, dataDir: dir, eventStore: b.o.eventStore, readModel: b.o.readModel, broker: b.o.broker,
		// Keys and channels of their own: bench alerts must never reach the
		// wall displays of a deployment that shares the Redis.
		redisPrefix: "vigia-bench-" + randomHex(4) + ":",
		adminUser:   b.user, adminPassword: b.password,
	}, b.stderr)
	if err != nil {
		return "", fmt.Errorf("start the bench's hub: %w", err)
	}
	b.hub = h
	b.base, b.hostPort = "http://"+h.addr, h.addr
	mode := "embedded default: SQLite event store (WAL, synchronous=FULL), memory read model, in-process broker"
	if b.o.eventStore != "" || b.o.readModel != "memory" || b.o.broker != "memory" {
		mode = fmt.Sprintf("scaled out: event store %s, read model %s, broker %s", storeurl.Kind(b.o.eventStore), kindOf(b.o.readModel), kindOf(b.o.broker))
	}
	return fmt.Sprintf("hub in a child process (%s serve, pid %d) on %s; %s", h.path, h.pid(), b.base, mode), nil
}

func kindOf(u string) string {
	if k, _, ok := strings.Cut(u, "://"); ok {
		return k
	}
	return u
}

// checkEmpty refuses to write into a configured store that holds events.
func (b *bench) checkEmpty(ctx context.Context) error {
	u := b.o.eventStore
	if u == "" || b.o.allowNonEmpty {
		return nil
	}
	if storeurl.Kind(u) == "sqlite" {
		if _, err := os.Stat(storeurl.SQLitePath(u, b.tmp)); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	st, err := openStore(ctx, u, b.tmp)
	if err != nil {
		return err
	}
	defer st.Close()
	evs, err := st.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 1)
	if err != nil {
		return fmt.Errorf("check the event store is empty: %w", err)
	}
	if len(evs) > 0 {
		return fmt.Errorf("the event store %s already holds events; the bench writes thousands of alerts and events into it: point --eventstore at a scratch database or schema, or pass --allow-nonempty", storeurl.Redact(u))
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
		return fmt.Errorf("the read model %s already holds a projection (checkpoint %s); the bench rebuilds it: point --readmodel at a scratch schema, or pass --allow-nonempty", storeurl.Redact(b.o.readModel), cp)
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
	refuse := fmt.Errorf("--target %q: refusing a non-loopback target; hub-bench generates heavy load and only runs against a hub on this machine (127.0.0.0/8, ::1, localhost)", target)
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

// parseFlags parses hub-bench's flags, printing its help on -h.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hub-bench [flags]\n\n%s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hub-bench: unexpected argument %q\n", fs.Arg(0))
		return ErrUsage
	}
	return nil
}

// stringFlag registers a string flag whose default comes from its HUB_*
// twin, then from def, as the hub's own flags do.
func stringFlag(fs *flag.FlagSet, getenv func(string) string, p *string, name, envName, def, usage string) {
	v := getenv(envName)
	if v == "" {
		v = def
	}
	fs.StringVar(p, name, v, usage+" ("+envName+")")
}
