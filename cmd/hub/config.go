package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"github.com/senapred-valparaiso/vigia/jobs"
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
	RedisPrefix   string
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
	fs.BoolVar(&c.SecureCookies, "secure-cookies", getenv("HUB_SECURE_COOKIES") == "1", "mark the session cookie Secure, behind HTTPS (HUB_SECURE_COOKIES=1)")
}

// Validate checks the configuration at startup.
func (c *Config) Validate() error {
	var errs []error
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
