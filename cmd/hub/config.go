package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/internal/netlimit"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"github.com/senapred-valparaiso/vigia/jobs"
	"github.com/senapred-valparaiso/vigia/web"
)

// Config is the hub's whole configuration. Flags override HUB_* environment
// variables, which override the defaults; the zero value of each field is
// its documented default.
type Config struct {
	Addr          string
	DataDir       string
	EventStore    string
	ReadModel     string
	Jobs          string
	Broker        string
	AdminUser     string
	AdminPassword string
	LogLevel      string
	LogFormat     string
	Demo          bool
	ShutdownWait  time.Duration
	SecureCookies bool
	// TrustedProxies lists the reverse proxies (addresses or CIDR
	// prefixes, comma-separated) whose X-Forwarded-For names the client;
	// empty: none, the TCP peer is the client.
	TrustedProxies string
	RedisPrefix    string
	// Connection caps: 0 is the default, -1 no cap (see maxConns and
	// maxConnsPerIP; WebSocket caps in ws.HubOptions).
	MaxConns          int
	MaxConnsPerIP     int
	WSMaxPerPrincipal int
	WSMaxPerIP        int

	badEnv []string // HUB_* numbers that did not parse, for Validate
}

// DefaultMaxConnsPerIP is the per-address TCP cap when MaxConnsPerIP is 0:
// a browser holds about six connections and a WebSocket, so this is some
// thirty browsers behind one NAT address, and far below the descriptor limit.
const DefaultMaxConnsPerIP = 256

// maxConns is the listener's total cap: MaxConns, or for 0 one derived from
// the descriptor limit (netlimit.AutoMaxConns), or none for -1.
func (c *Config) maxConns(nofile uint64) int {
	switch {
	case c.MaxConns < 0:
		return 0
	case c.MaxConns == 0:
		return netlimit.AutoMaxConns(nofile)
	}
	return c.MaxConns
}

// maxConnsPerIP is the listener's per-address cap (0: none).
func (c *Config) maxConnsPerIP() int {
	switch {
	case c.MaxConnsPerIP < 0:
		return 0
	case c.MaxConnsPerIP == 0:
		return DefaultMaxConnsPerIP
	}
	return c.MaxConnsPerIP
}

// env reads the HUB_* twin of a flag. Only cmd/hub reads the environment.
type env func(string) string

// stringFlag registers a string flag whose default comes from its HUB_*
// twin, then from def.
func stringFlag(fs *flag.FlagSet, getenv env, p *string, name, envName, def, usage string) {
	v := getenv(envName)
	if v == "" {
		v = def
	}
	fs.StringVar(p, name, v, usage+" ("+envName+")")
}

// intFlag registers an int flag whose default comes from its HUB_* twin
// (an unparsable value is left for Validate to report), then 0.
func intFlag(fs *flag.FlagSet, getenv env, p *int, bad *[]string, name, envName, usage string) {
	v := 0
	if s := getenv(envName); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			*bad = append(*bad, envName)
		}
		v = n
	}
	fs.IntVar(p, name, v, usage+" ("+envName+")")
}

// bindStore registers the flags that say where the data is; every command
// that touches the store shares them.
func bindStore(fs *flag.FlagSet, c *Config, getenv env) {
	stringFlag(fs, getenv, &c.DataDir, "data-dir", "HUB_DATA_DIR", "./data", "directory for the embedded event store and sessions")
	stringFlag(fs, getenv, &c.EventStore, "eventstore", "HUB_EVENTSTORE", "", "event store: empty for embedded SQLite in the data dir, sqlite:///path/events.db, postgres://… or esdb://…")
	stringFlag(fs, getenv, &c.ReadModel, "readmodel", "HUB_READMODEL", "memory", "read models: memory or postgres://… (also where a fleet keeps API tokens)")
	stringFlag(fs, getenv, &c.Jobs, "jobs", "HUB_JOBS", "", "background jobs database: empty for the read models' Postgres when there is one, else jobs.db in the data dir; or postgres://… or a SQLite file path")
	stringFlag(fs, getenv, &c.LogLevel, "log-level", "HUB_LOG_LEVEL", "info", "debug, info, warn or error")
	stringFlag(fs, getenv, &c.LogFormat, "log-format", "HUB_LOG_FORMAT", "auto", "json, console, or auto (console on a terminal)")
}

// bindServe registers serve's flags on fs with their HUB_* defaults.
func bindServe(fs *flag.FlagSet, c *Config, getenv env) {
	bindStore(fs, c, getenv)
	str := func(p *string, name, envName, def, usage string) {
		stringFlag(fs, getenv, p, name, envName, def, usage)
	}
	str(&c.Addr, "addr", "HUB_ADDR", ":8080", "address to listen on")
	str(&c.Broker, "broker", "HUB_BROKER", "memory", "change fan-out, sessions and login throttling: memory (one instance) or redis://… (a fleet)")
	str(&c.RedisPrefix, "redis-prefix", "HUB_REDIS_PREFIX", "vigia:", "prefix of every Redis key and channel, to share one Redis between deployments")
	str(&c.AdminUser, "admin-user", "HUB_ADMIN_USER", "", "username of the first admin, created at first start")
	str(&c.AdminPassword, "admin-password", "HUB_ADMIN_PASSWORD", "", "password of the first admin (prefer the environment variable)")
	demo := getenv("HUB_DEMO") == "1" || strings.EqualFold(getenv("HUB_DEMO"), "true")
	fs.BoolVar(&c.Demo, "demo", demo, "load demo alerts, today's roster and log entries when the store is empty (HUB_DEMO)")
	wait := 10 * time.Second
	if v := getenv("HUB_SHUTDOWN_WAIT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			wait = d
		}
	}
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", wait, "how long to wait for requests in flight on shutdown (HUB_SHUTDOWN_WAIT)")
	str(&c.TrustedProxies, "trusted-proxies", "HUB_TRUSTED_PROXIES", "", "reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For gives the client address; empty: none")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", getenv("HUB_SECURE_COOKIES") == "1", "mark the session cookie Secure, behind HTTPS (HUB_SECURE_COOKIES=1)")
	num := func(p *int, name, envName, usage string) { intFlag(fs, getenv, p, &c.badEnv, name, envName, usage) }
	num(&c.MaxConns, "max-conns", "HUB_MAX_CONNS", "most TCP connections open at once; 0: the descriptor limit less 256 (at least half of it), at most 10000; -1: no cap")
	num(&c.MaxConnsPerIP, "max-conns-per-ip", "HUB_MAX_CONNS_PER_IP", "most TCP connections open at once from one address (IPv6: one /64); 0: 256; -1: no cap (behind a proxy, which then limits per client)")
	num(&c.WSMaxPerPrincipal, "ws-max-per-principal", "HUB_WS_MAX_PER_PRINCIPAL", "most WebSockets open at once for one user or token; 0: 50; -1: no cap")
	num(&c.WSMaxPerIP, "ws-max-per-ip", "HUB_WS_MAX_PER_IP", "most WebSockets open at once from one client address; 0: 200; -1: no cap")
}

// Validate checks the configuration at startup.
func (c *Config) Validate() error {
	var errs []error
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port or :port", c.Addr))
	}
	errs = append(errs, c.validateStore())
	if c.readModelKind() == "" {
		errs = append(errs, fmt.Errorf("readmodel %q: want memory or postgres://…", storeurl.Redact(c.ReadModel)))
	}
	switch {
	case c.Broker == "memory":
	case isRedisURL(c.Broker):
		if c.ReadModel == "memory" {
			errs = append(errs, errors.New("broker redis:// needs readmodel postgres://: with in-memory read models every instance projects, so each would publish every notice"))
		}
	default:
		errs = append(errs, fmt.Errorf("broker %q: want memory or redis://", storeurl.Redact(c.Broker)))
	}
	if isRedisURL(c.Broker) && c.Jobs != "" && !jobs.IsPostgres(c.Jobs) {
		errs = append(errs, errors.New("jobs: a fleet (broker redis://) shares its jobs in Postgres: leave jobs empty or give postgres://…"))
	}
	for _, name := range c.badEnv {
		errs = append(errs, fmt.Errorf("%s: want a whole number", name))
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"max-conns", c.MaxConns}, {"max-conns-per-ip", c.MaxConnsPerIP}, {"ws-max-per-principal", c.WSMaxPerPrincipal}, {"ws-max-per-ip", c.WSMaxPerIP}} {
		if v.n < -1 {
			errs = append(errs, fmt.Errorf("%s %d: want 0 (the default), -1 (no cap) or a positive number", v.name, v.n))
		}
	}
	if (c.AdminUser == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("admin-user and admin-password go together"))
	}
	return errors.Join(errs...)
}

// jobsURL is where background jobs are kept: HUB_JOBS, else the read
// models' Postgres (a fleet shares its jobs, so each runs on one instance),
// else jobs.db beside the embedded event store.
func (c *Config) jobsURL() string {
	switch {
	case c.Jobs != "":
		return c.Jobs
	case c.readModelKind() == "postgres":
		return c.ReadModel
	}
	return filepath.Join(c.DataDir, "jobs.db")
}

// validateStore checks the flags bindStore registers.
func (c *Config) validateStore() error {
	var errs []error
	if _, err := zerolog.ParseLevel(c.LogLevel); err != nil || c.LogLevel == "" {
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "auto", "json", "console":
	default:
		errs = append(errs, fmt.Errorf("log-format %q: want auto, json or console", c.LogFormat))
	}
	switch c.eventStoreKind() {
	case "sqlite", "postgres", "esdb":
	default:
		errs = append(errs, fmt.Errorf("eventstore %q: want empty, sqlite://, postgres:// or esdb://", storeurl.Redact(c.EventStore)))
	}
	return errors.Join(errs...)
}

// eventStoreKind names the adapter HUB_EVENTSTORE selects: sqlite,
// postgres, esdb, or "" when the URL is not understood.
func (c *Config) eventStoreKind() string { return storeurl.Kind(c.EventStore) }

// sqlitePath is where the embedded store keeps its file.
func (c *Config) sqlitePath() string { return storeurl.SQLitePath(c.EventStore, c.DataDir) }

// newLogger builds the root logger: JSON, or human-readable on a terminal.
func newLogger(w io.Writer, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if format == "console" || (format == "auto" && isTerminal(w)) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
