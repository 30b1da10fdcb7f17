package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// TestMain lets a test re-execute this test binary as a real `hub` process
// (HUB_TEST_CHILD=1), so crash tests can kill -9 it without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("HUB_TEST_CHILD") == "1" {
		if err := limitNoFile(os.Getenv("HUB_TEST_NOFILE")); err != nil {
			fmt.Fprintln(os.Stderr, "HUB_TEST_NOFILE:", err)
			os.Exit(2)
		}
		ctx, stop := signalContext()
		defer stop()
		os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startMain runs a hub in-process on a loopback port with its data in a
// temporary directory.
func startMain(t *testing.T, dataDir string) *Main {
	t.Helper()
	return startMainWith(t, dataDir, nil)
}

// startMainWith is startMain with configure applied to the configuration
// (when not nil) before the hub opens.
func startMainWith(t *testing.T, dataDir string, configure func(*Config)) *Main {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = dataDir
	m.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
	m.PasswordParams = auth.TestParams
	if configure != nil {
		configure(&m.Config)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

const (
	testAdmin    = "admin"
	testPassword = "clave de prueba larga"
)

type client struct {
	base string
	http *http.Client
}

// newClient returns a client with a cookie jar, logged in as username.
func newClient(t testing.TB, addr, username, password string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{base: "http://" + addr, http: &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}}
	code, _, err := c.call("POST", "/api/auth/login", nil, `{"username":"`+username+`","password":"`+password+`"}`, nil)
	if err != nil || code != 200 {
		t.Fatalf("login %s: %d %v", username, code, err)
	}
	return c
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *client) call(method, path string, headers map[string]string, body string, out any) (int, http.Header, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return resp.StatusCode, resp.Header, nil
}

func TestRunHelpAndErrors(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{}, 2, "Commands:"},
		{[]string{"help"}, 0, "serve"},
		{[]string{"serve", "--help"}, 0, "HUB_EVENTSTORE"},
		{[]string{"help", "serve"}, 0, "HUB_ADDR"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--log-level", "loud"}, 1, "log-level"},
		{[]string{"serve", "--addr", "8080"}, 1, "addr"},
		{[]string{"version"}, 0, "hub"},
		{[]string{"bench"}, 2, "hub-bench"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			code := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), &out, &out)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("got code %d output %q, want %d containing %q", code, out.String(), tt.wantCode, tt.wantOut)
			}
		})
	}
}

// The load generator left the binary: help no longer lists it.
func TestHelpHasNoBench(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"help"}, func(string) string { return "" }, strings.NewReader(""), &out, &out); code != 0 || strings.Contains(out.String(), "bench") {
		t.Fatalf("got code %d and help %q, want 0 and no bench", code, out.String())
	}
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	m := NewMain()
	if m.Config.Addr != ":8080" || m.Config.DataDir != "./data" || m.Config.ReadModel != "memory" {
		t.Fatalf("got defaults %+v", m.Config)
	}
	getenv := func(k string) string {
		return map[string]string{"HUB_ADDR": "127.0.0.1:9999", "HUB_LOG_LEVEL": "debug", "HUB_DEMO": "1"}[k]
	}
	var c Config
	fs := newFlagSet("serve")
	bindServe(fs, &c, getenv)
	if err := fs.Parse([]string{"--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.LogLevel != "warn" || !c.Demo {
		t.Fatalf("got %+v: the env sets defaults and a flag wins", c)
	}
}

func TestDemoDataIsSeededOnce(t *testing.T) {
	dir := t.TempDir()
	count := func() int {
		m := NewMain()
		m.Config.Addr, m.Config.DataDir, m.Config.Demo = "127.0.0.1:0", dir, true
		m.PasswordParams = auth.TestParams
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var list struct {
			Alerts []map[string]any `json:"alerts"`
		}
		if code, _, err := newClient(t, m.Addr(), "operador", "operador-demo").call("GET", "/api/alerts", nil, "", &list); err != nil || code != 200 {
			t.Fatalf("got %d %v", code, err)
		}
		return len(list.Alerts)
	}
	first := count()
	if first != 3 {
		t.Fatalf("got %d alerts in force after seeding, want 3", first)
	}
	if again := count(); again != first {
		t.Fatalf("got %d alerts after a restart, want %d: demo data must not be seeded twice", again, first)
	}
}

func TestUserAddAndTokenCreate(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HUB_DATA_DIR": dir}[k] }
	var out, errs strings.Builder
	code := run(context.Background(), []string{"user", "add", "--username", "marta", "--role", "supervisor", "--password-stdin"}, getenv, strings.NewReader(testPassword+"\n"), &out, &errs)
	if code != 0 || !strings.Contains(out.String(), "user marta created") {
		t.Fatalf("got %d %q %q", code, out.String(), errs.String())
	}
	code = run(context.Background(), []string{"user", "add", "--username", "marta", "--password-stdin"}, getenv, strings.NewReader(testPassword+"\n"), &out, &errs)
	if code != 1 || !strings.Contains(errs.String(), "already exists") {
		t.Fatalf("duplicate: got %d %q", code, errs.String())
	}
	code = run(context.Background(), []string{"user", "add", "--username", "pablo", "--password-stdin"}, getenv, strings.NewReader("corta\n"), &out, &errs)
	if code != 1 {
		t.Fatalf("short password: got %d", code)
	}
	errs.Reset()
	code = run(context.Background(), []string{"user", "add", "--username", "pablo", "--password-stdin"}, getenv, strings.NewReader("Password2026!\n"), &out, &errs)
	if code != 1 || !strings.Contains(errs.String(), "too common") {
		t.Fatalf("common password: got %d %q", code, errs.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"token", "create", "--name", "sala"}, getenv, nil, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "vgt_") {
		t.Fatalf("token: got %d %q %q", code, out.String(), errs.String())
	}
	token := strings.TrimSpace(out.String())
	if !strings.Contains(errs.String(), "expires "+time.Now().Add(auth.DefaultTokenLifetime).UTC().Format("2006-01-02")) {
		t.Errorf("token without --expires: want the default lifetime, got %q", errs.String())
	}
	if code := run(context.Background(), []string{"token", "create", "--name", "largo", "--expires", "366"}, getenv, nil, &out, &errs); code == 0 {
		t.Errorf("--expires 366: got exit 0, want a usage error")
	}
	errs.Reset()
	if code := run(context.Background(), []string{"token", "create", "--name", "corto", "--expires", "7"}, getenv, nil, io.Discard, &errs); code != 0 ||
		!strings.Contains(errs.String(), "expires "+time.Now().Add(7*24*time.Hour).UTC().Format("2006-01-02")) {
		t.Errorf("--expires 7: got %d %q", code, errs.String())
	}

	// The hub started on the same data logs marta in and accepts the token.
	m := NewMain()
	m.Config.Addr, m.Config.DataDir = "127.0.0.1:0", dir
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := newClient(t, m.Addr(), "marta", testPassword)
	var me struct {
		Role string `json:"role"`
	}
	if code, _, err := c.call("GET", "/api/auth/me", nil, "", &me); err != nil || code != 200 || me.Role != "supervisor" {
		t.Fatalf("me: %d %v %+v", code, err, me)
	}
	anon := &client{base: "http://" + m.Addr(), http: http.DefaultClient}
	if code, _, _ := anon.call("GET", "/api/alerts", map[string]string{"Authorization": "Bearer " + token}, "", nil); code != 200 {
		t.Fatalf("display token read: got %d", code)
	}
	if code, _, _ := anon.call("POST", "/api/log", map[string]string{"Authorization": "Bearer " + token}, `{"text":"x"}`, nil); code != 403 {
		t.Fatalf("display token write: got %d, want 403", code)
	}
}

// TestPostgresEventStore: the hub runs with its events in Postgres, and a
// restarted hub rebuilds its read models from them.
func TestPostgresEventStore(t *testing.T) {
	dsn := testsvc.Postgres(t)
	dir := t.TempDir()
	open := func() *Main {
		m := NewMain()
		m.Config.Addr, m.Config.DataDir, m.Config.EventStore = "127.0.0.1:0", dir, dsn
		m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
		m.PasswordParams = auth.TestParams
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := open()
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"viento","level":"amarilla","title":"Viento en altura","provincias":["053"]}`, nil); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = open()
	defer m.Close()
	var list struct {
		Alerts []struct {
			Title string `json:"title"`
		} `json:"alerts"`
	}
	c = newClient(t, m.Addr(), testAdmin, testPassword)
	if code, _, err := c.call("GET", "/api/alerts", nil, "", &list); err != nil || code != 200 || len(list.Alerts) != 1 || list.Alerts[0].Title != "Viento en altura" {
		t.Fatalf("after restart: %d %v %+v", code, err, list)
	}
}
