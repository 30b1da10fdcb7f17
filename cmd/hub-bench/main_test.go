package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets the bench re-execute this test binary as hub-bench (its
// WebSocket worker, hub-bench --ws-worker) when HUB_BENCH_TEST_CHILD=1.
func TestMain(m *testing.M) {
	if os.Getenv("HUB_BENCH_TEST_CHILD") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func noEnv(string) string { return "" }

// hubBinary builds cmd/hub into a temporary directory (or takes
// HUB_BENCH_HUB, a hub built already) for the bench to start.
func hubBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HUB_BENCH_HUB"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "hub")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", out, "../hub")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the hub: %v\n%s", err, msg)
	}
	return out
}

// TestBenchPrintsEveryRow runs hub-bench with tiny settings against a hub
// of its own (a child hub serve; WebSocket clients in another child
// process: this test binary, see TestMain) and checks that the table has
// every row, each with a number.
func TestBenchPrintsEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a hub, a child process and a few thousand requests")
	}
	hub := hubBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errs strings.Builder
	args := []string{"--hub", hub, "--duration", "300ms", "--clients", "20,40", "--read-concurrency", "16",
		"--operators", "4", "--alerts", "3", "--rebuild-events", "2500",
		"--intake-latency", "5", "--intake-uploads", "6", "--profile-dir", t.TempDir()}
	code := exitCode(runWith(ctx, args, noEnv, strings.NewReader(""), &out, &errs, []string{"HUB_BENCH_TEST_CHILD=1"}), &errs)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	if code != 0 {
		t.Fatalf("hub-bench exited with %d", code)
	}

	// Cells are separated by two or more spaces; cells never hold two.
	rows := map[string][]string{}
	for line := range strings.Lines(out.String()) {
		cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(cells) == 9 && cells[0] != "SCENARIO" {
			rows[cells[0]+" | "+cells[1]] = cells
		}
	}
	number := `-?[0-9][0-9,]*(\.[0-9]+)?`
	duration := regexp.MustCompile(`^[0-9.]+(µs|ms|s)$`)
	tests := []struct {
		row    string // scenario | case prefix
		result string // regexp for RESULT
		timed  bool   // P50, P95, P99 and MAX are durations
	}{
		{"reads | GET /api/alerts, c=16", number + " req/s", true},
		{"edits | PATCH, 4 operators, own alerts", number + " cmd/s", true},
		{"edits | PATCH, 4 operators, one alert", `412 rate ` + number + `% of ` + number, true},
		{"push | 20 clients", number + " deliveries/s", true},
		{"push | 40 clients", number + " deliveries/s", true},
		{"memory | 20 idle WebSockets", number + " KiB/conn", false},
		{"memory | 40 idle WebSockets", number + " KiB/conn", false},
		{"intake | upload → job done, 5 one at a time", number + " informes/s", true},
		{"intake | 6 uploads at once, each until done", `all done in [0-9.]+(µs|ms|s)`, true},
		{"intake | 6 uploads at once, hub VmRSS peak growth", `[+-]` + number + " MiB", false},
		{"appends | sqlite, batch 1, 1 writer", number + " events/s", true},
		{"appends | sqlite, batch 100, 1 writer", number + " events/s", true},
		{"appends | sqlite, batch 1, 4 writers", number + " events/s", true},
		{"rebuild | memory read model", number + " events/s", false},
		{"rebuild | postgres read model", `n/a|` + number + " events/s", false},
		{"history | day snapshots", number + " snapshots", false},
		{"history | informe of a random day, at its end, with snapshots", number + " requests", true},
	}
	for _, tt := range tests {
		var cells []string
		for k, c := range rows {
			if strings.HasPrefix(k, tt.row) {
				cells = c
			}
		}
		if cells == nil {
			t.Errorf("no row %q", tt.row)
			continue
		}
		if !regexp.MustCompile(`^(` + tt.result + `)$`).MatchString(cells[2]) {
			t.Errorf("%s: got result %q, want %s", tt.row, cells[2], tt.result)
		}
		if tt.timed {
			for i, name := range []string{"p50", "p95", "p99", "max"} {
				if !duration.MatchString(cells[3+i]) {
					t.Errorf("%s: got %s %q, want a duration", tt.row, name, cells[3+i])
				}
			}
		}
	}
	if !strings.Contains(out.String(), "Go heap+stacks") {
		t.Errorf("no note on the hub's Go heap per connection (its probe)")
	}
}

func TestBenchRefusesNonLoopbackTargets(t *testing.T) {
	var out, errs strings.Builder
	code := run(context.Background(), []string{"--target", "http://10.0.0.7:8080", "--user", "ana", "--password", "x"},
		noEnv, strings.NewReader(""), &out, &errs)
	if code != 1 || !strings.Contains(errs.String(), "non-loopback") {
		t.Fatalf("got code %d and %q, want 1 and a refusal", code, errs.String())
	}
}

func TestBenchFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--help"}, 0, "--target"},
		{[]string{"--help"}, 0, "--hub"},
		{[]string{"--scenarios", "reads,frobs"}, 2, "unknown scenario"},
		{[]string{"--clients", "10,zero"}, 2, "--clients"},
		{[]string{"--intake-uploads", "0"}, 2, "--intake-uploads"},
		{[]string{"--scenarios", "intake", "--informe", "/nonexistent/informe.docx"}, 1, "no sample informe"},
		{[]string{"--target", "http://127.0.0.1:1"}, 2, "--user"},
		{[]string{"extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs strings.Builder
			code := run(context.Background(), tt.args, noEnv, strings.NewReader(""), &out, &errs)
			if code != tt.wantCode || !strings.Contains(errs.String()+out.String(), tt.wantErr) {
				t.Fatalf("got %d %q, want %d containing %q", code, errs.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
