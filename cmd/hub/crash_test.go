package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childHub runs this test binary as a real `hub serve` process.
type childHub struct {
	cmd  *exec.Cmd
	addr string

	mu    sync.Mutex
	lines []string // its log, line by line
}

// logged reports whether a line of the child's log so far contains s.
func (h *childHub) logged(s string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startChild starts a child hub on a free port with its data in dataDir;
// env adds HUB_* settings (a fleet's shared services).
func startChild(t *testing.T, dataDir string, env ...string) *childHub {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--addr", addr, "--data-dir", dataDir, "--log-format", "json")
	cmd.Env = append(append(os.Environ(), "HUB_TEST_CHILD=1", "HUB_ADMIN_USER="+testAdmin, "HUB_ADMIN_PASSWORD="+testPassword), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	h := &childHub{cmd: cmd, addr: addr}
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			h.mu.Lock()
			if len(h.lines) < 10_000 {
				h.lines = append(h.lines, sc.Text())
			}
			h.mu.Unlock()
			if strings.Contains(sc.Text(), "hub ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child hub did not become ready")
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return h
}

// TestCrashSafety kills a hub with SIGKILL in the middle of a stream of
// acknowledged writes; after a restart every acknowledged write is there.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	child := startChild(t, dir)
	c := newClient(t, child.addr, testAdmin, testPassword)

	var (
		mu    sync.Mutex
		acked []string
		date  string
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000 && ctx.Err() == nil; i++ {
				var out struct {
					ID   string `json:"id"`
					Date string `json:"date"`
				}
				code, _, err := c.call("POST", "/api/log", nil, fmt.Sprintf(`{"text":"novedad %d-%d","date":"2026-01-15"}`, w, i), &out)
				if err != nil || code != 201 {
					return // the process is gone: this write was not acknowledged
				}
				mu.Lock()
				acked = append(acked, out.ID)
				date = out.Date
				n := len(acked)
				mu.Unlock()
				if n == 150 {
					_ = child.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}(w)
	}
	wg.Wait()
	_ = child.cmd.Wait()
	if len(acked) < 150 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}

	restarted := startChild(t, dir)
	c.base = "http://" + restarted.addr
	var list struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	// The session made before the crash still works: sessions survive a restart.
	code, _, err := c.call("GET", "/api/log?date="+date, nil, "", &list)
	if err != nil || code != 200 {
		t.Fatalf("list: %d %v", code, err)
	}
	have := map[string]bool{}
	for _, e := range list.Entries {
		have[e.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("acknowledged entry %s lost in the crash (%d acknowledged, %d after restart)", id, len(acked), len(list.Entries))
		}
	}
	t.Logf("%d acknowledged writes, %d entries after restart", len(acked), len(list.Entries))
}
