package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBenchPrintsEveryRow runs `hub bench` with tiny settings against a hub
// of its own (WebSocket clients in a child process: this test binary, see
// TestMain) and checks that the table has every row, each with a number.
func TestBenchPrintsEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a hub, a child process and a few thousand requests")
	}
	benchChildEnv = []string{"HUB_TEST_CHILD=1"}
	t.Cleanup(func() { benchChildEnv = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errs strings.Builder
	args := []string{"bench", "--duration", "300ms", "--clients", "20,40", "--read-concurrency", "16",
		"--operators", "4", "--alerts", "3", "--rebuild-events", "2500"}
	code := run(ctx, args, func(string) string { return "" }, strings.NewReader(""), &out, &errs)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	if code != 0 {
		t.Fatalf("hub bench exited with %d", code)
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
		{"appends | sqlite, batch 1, 1 writer", number + " events/s", true},
		{"appends | sqlite, batch 100, 1 writer", number + " events/s", true},
		{"appends | sqlite, batch 1, 4 writers", number + " events/s", true},
		{"rebuild | memory read model", number + " events/s", false},
		{"rebuild | postgres read model", `n/a|` + number + " events/s", false},
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
}

func TestBenchRefusesNonLoopbackTargets(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080/", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://10.0.0.7:8080", false},
		{"http://192.168.1.10", false},
		{"http://[2001:db8::1]:8080", false},
		{"http://0.0.0.0:8080", false},
		{"https://127.0.0.1:8443", false},
		{"http://127.0.0.1:8080/api", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			u, err := loopbackTarget(context.Background(), tt.target)
			if (err == nil) != tt.ok {
				t.Fatalf("got %v %v, want ok=%v", u, err, tt.ok)
			}
		})
	}

	var out, errs strings.Builder
	code := run(context.Background(), []string{"bench", "--target", "http://10.0.0.7:8080", "--user", "ana", "--password", "x"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errs)
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
		{[]string{"bench", "--help"}, 0, "--target"},
		{[]string{"bench", "--scenarios", "reads,frobs"}, 2, "unknown scenario"},
		{[]string{"bench", "--clients", "10,zero"}, 2, "--clients"},
		{[]string{"bench", "--target", "http://127.0.0.1:1"}, 2, "--user"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs strings.Builder
			code := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), &out, &errs)
			if code != tt.wantCode || !strings.Contains(errs.String()+out.String(), tt.wantErr) {
				t.Fatalf("got %d %q, want %d containing %q", code, errs.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
