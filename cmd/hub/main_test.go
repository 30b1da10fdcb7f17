package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestMain lets a test re-execute this test binary as a real `hub` process
// (HUB_TEST_CHILD=1), so crash tests can kill -9 it without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("HUB_TEST_CHILD") == "1" {
		ctx, stop := signalContext()
		defer stop()
		os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startMain runs a hub in-process on a loopback port with its data in a
// temporary directory.
func startMain(t *testing.T, dataDir string) *Main {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = dataDir
	m.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
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

type client struct {
	base string
	http *http.Client
}

func newClient(addr string) *client {
	return &client{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}}
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
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			code := run(context.Background(), tt.args, func(string) string { return "" }, &out, &out)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("got code %d output %q, want %d containing %q", code, out.String(), tt.wantCode, tt.wantOut)
			}
		})
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
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var list struct {
			Alerts []map[string]any `json:"alerts"`
		}
		if code, _, err := newClient(m.Addr()).call("GET", "/api/alerts", nil, "", &list); err != nil || code != 200 {
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
