// Package testsvc is how integration tests reach the real services they
// run against: a fresh Postgres schema or a fresh Redis key prefix per test,
// dropped when the test ends.
//
// Where the services are comes from the environment (tests are the one
// exception to "only cmd/hub reads the environment"):
//
//	HUB_TEST_POSTGRES  default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	HUB_TEST_REDIS     default 127.0.0.1:6379
//	HUB_INTEGRATION    "required": an unreachable service fails the test
//
// An unreachable service skips the test with a loud SKIPPING message,
// unless HUB_INTEGRATION=required (CI sets it), which fails it instead, so a
// CI run can never go green by skipping. Under go test -short the helpers
// skip without dialling, unless HUB_INTEGRATION=required.
//
// It imports pgx and the standard library only; nothing of ours.
package testsvc

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults, for a developer machine with the services on localhost.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedis    = "127.0.0.1:6379"
)

// dialTimeout bounds each probe, so a missing service skips quickly.
const dialTimeout = 3 * time.Second

// down remembers a service found unreachable, so that the tests after the
// first skip (or fail) at once instead of each waiting for a timeout.
var down struct {
	sync.Mutex
	err map[string]error
}

func markDown(service string, err error) {
	down.Lock()
	defer down.Unlock()
	if down.err == nil {
		down.err = map[string]error{}
	}
	down.err[service] = err
}

func wasDown(service string) error {
	down.Lock()
	defer down.Unlock()
	return down.err[service]
}

func required() bool { return os.Getenv("HUB_INTEGRATION") == "required" }

// unreachable skips the test loudly, or fails it under
// HUB_INTEGRATION=required.
func unreachable(tb testing.TB, service, where string, err error) {
	tb.Helper()
	if required() {
		tb.Fatalf("%s not reachable at %s: %v (HUB_INTEGRATION=required)", service, where, err)
	}
	tb.Skipf("SKIPPING: %s not reachable at %s (%v); set HUB_INTEGRATION=required to fail instead", service, where, err)
}

func skipShort(tb testing.TB, service string) {
	tb.Helper()
	if testing.Short() && !required() {
		tb.Skipf("skipping the %s integration test in -short mode", service)
	}
}

// Postgres returns the DSN of a fresh schema, created for this test and
// dropped (CASCADE) when it ends. The DSN sets search_path to that schema
// alone (options=-csearch_path=…), so the code under test creates its
// tables there without knowing it is being tested.
func Postgres(tb testing.TB) string {
	tb.Helper()
	skipShort(tb, "Postgres")
	base := os.Getenv("HUB_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	where := redact(base)
	if err := wasDown("postgres " + base); err != nil {
		unreachable(tb, "Postgres", where, err)
	}
	schema := uniqueName(tb, "t_", "_", 63)
	ident := pgx.Identifier{schema}.Sanitize()
	if err := pgExec(base, "CREATE SCHEMA "+ident); err != nil {
		if isConnectError(err) {
			markDown("postgres "+base, err)
			unreachable(tb, "Postgres", where, err)
		}
		tb.Fatalf("testsvc: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		if err := pgExec(base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			tb.Errorf("testsvc: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatalf("testsvc: HUB_TEST_POSTGRES %s: %v", where, err)
	}
	return dsn
}

// connectError marks a failure to reach the server, as opposed to a
// failing statement.
type connectError struct{ err error }

func (e connectError) Error() string { return e.err.Error() }
func (e connectError) Unwrap() error { return e.err }

func isConnectError(err error) bool {
	_, ok := err.(connectError)
	return ok
}

func pgExec(dsn, sql string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return connectError{err}
	}
	cfg.ConnectTimeout = dialTimeout
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return connectError{err}
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withSearchPath adds search_path=schema to a URL or keyword/value DSN.
func withSearchPath(dsn, schema string) (string, error) {
	opt := "-csearch_path=" + schema
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("options", strings.TrimSpace(q.Get("options")+" "+opt))
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return strings.TrimSpace(dsn + " options='" + opt + "'"), nil
}

// redact hides a password in a DSN for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if strings.Contains(dsn, "password=") {
		return "(a keyword/value DSN with a password)"
	}
	return dsn
}

// Redis returns the address of the test Redis and a key prefix no other
// test uses (it ends in ':'). Keys under the prefix are deleted when the
// test ends.
func Redis(tb testing.TB) (addr, prefix string) {
	tb.Helper()
	skipShort(tb, "Redis")
	addr = os.Getenv("HUB_TEST_REDIS")
	if addr == "" {
		addr = DefaultRedis
	}
	if u, err := url.Parse(addr); err == nil && (u.Scheme == "redis" || u.Scheme == "rediss") {
		addr = u.Host
	}
	if err := wasDown("redis " + addr); err != nil {
		unreachable(tb, "Redis", addr, err)
	}
	reply, err := redisDo(addr, "PING")
	if err == nil && reply != "+PONG" {
		err = fmt.Errorf("PING answered %q", reply)
	}
	if err != nil {
		markDown("redis "+addr, err)
		unreachable(tb, "Redis", addr, err)
	}
	prefix = uniqueName(tb, "vigia-test:", ":", 80) + ":"
	tb.Cleanup(func() {
		// The prefix holds no glob characters (uniqueName), so KEYS
		// matches exactly the keys under it.
		const del = `local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n`
		if reply, err := redisDo(addr, "EVAL", del, "0", prefix+"*"); err != nil || !strings.HasPrefix(reply, ":") {
			tb.Errorf("testsvc: delete redis keys %s*: %q, %v", prefix, reply, err)
		}
	})
	return addr, prefix
}

// redisDo sends one command in RESP and returns the first line of the
// reply.
func redisDo(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// uniqueName returns start + the test's name, lower-cased to [a-z0-9_] and
// shortened + sep + random hex, at most limit bytes.
func uniqueName(tb testing.TB, start, sep string, limit int) string {
	var rnd [5]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatalf("testsvc: random name: %v", err)
	}
	suffix := sep + hex.EncodeToString(rnd[:])
	var b strings.Builder
	for _, r := range strings.ToLower(tb.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if room := limit - len(start) - len(suffix); len(name) > room {
		name = name[len(name)-room:] // the end of a subtest name is its most specific part
	}
	return start + name + suffix
}

// RedisServer is a private redis-server process for tests that must stop
// and restart Redis without disturbing other tests.
type RedisServer struct {
	Addr string
	bin  string
	dir  string
	cmd  *exec.Cmd
}

// PrivateRedis starts redis-server (nothing kept on disk) on a free
// loopback port and stops it at cleanup. Without the binary it skips
// loudly, or fails under HUB_INTEGRATION=required.
func PrivateRedis(tb testing.TB) *RedisServer {
	tb.Helper()
	skipShort(tb, "Redis")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unreachable(tb, "redis-server", "PATH", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &RedisServer{Addr: addr, bin: bin, dir: tb.TempDir()}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Start runs the server and waits until it answers PING.
func (s *RedisServer) Start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if reply, err := redisDo(s.Addr, "PING"); err == nil && reply == "+PONG" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer PING", s.Addr)
}

// Stop kills the server and waits for it.
func (s *RedisServer) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}
