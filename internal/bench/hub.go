package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// hubConfig is what the bench's own hub is started with.
type hubConfig struct {
	path                          string // the hub binary; empty for the one next to this binary
	dataDir                       string
	eventStore, readModel, broker string
	redisPrefix                   string
	adminUser, adminPassword      string
}

// hubProc is the bench's own hub: `hub serve` in a child process, on a
// free loopback port, started with HUB_PROBE=stdin so that the bench can
// ask it, on its standard input, for its memory after a GC and for CPU
// profiles (cmd/hub/probe.go answers).
type hubProc struct {
	path    string
	addr    string
	cmd     *exec.Cmd
	in      io.WriteCloser
	replies chan string
	exited  chan struct{}
	waitErr error // set before exited closes

	mu sync.Mutex // one question to the probe at a time
}

// startHub starts the hub and waits until it answers /healthz.
func startHub(ctx context.Context, cfg hubConfig, stderr io.Writer) (*hubProc, error) {
	path := cfg.path
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(filepath.Dir(exe), "hub")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("hub binary: %w (build it with make build, or name it with --hub)", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	// Every serve flag is given, so that HUB_* variables of the caller's
	// environment (make exports a demo admin) do not shape the hub measured.
	cmd := exec.Command(path, "serve", "--addr", addr, "--data-dir", cfg.dataDir,
		"--eventstore="+cfg.eventStore, "--readmodel", cfg.readModel, "--broker", cfg.broker,
		"--redis-prefix", cfg.redisPrefix, "--admin-user", cfg.adminUser,
		"--log-level", "error", "--log-format", "auto",
		"--demo=false", "--secure-cookies=false", "--shutdown-wait", "10s",
		// Thousands of clients from one loopback address, on one token.
		"--max-conns=-1", "--max-conns-per-ip=-1", "--ws-max-per-principal=-1", "--ws-max-per-ip=-1")
	// The password goes in the environment, not on the command line.
	cmd.Env = append(os.Environ(), "HUB_ADMIN_PASSWORD="+cfg.adminPassword, "HUB_PROBE=stdin")
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
		return nil, err
	}
	h := &hubProc{path: path, addr: addr, cmd: cmd, in: in, replies: make(chan string, 1), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "probe ") {
				h.replies <- strings.TrimPrefix(line, "probe ")
			}
		}
		h.waitErr = cmd.Wait()
		close(h.exited)
	}()
	if err := h.waitHealthy(ctx, 2*time.Minute); err != nil {
		return nil, errors.Join(err, h.stop())
	}
	return h, nil
}

// freeLoopbackAddr finds a free port on 127.0.0.1 for the hub to listen on.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// waitHealthy polls /healthz until the hub answers 200, exits, or timeout.
func (h *hubProc) waitHealthy(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get("http://" + h.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-h.exited:
			return fmt.Errorf("%s serve exited: %v (see its errors above)", h.path, h.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s serve not answering on %s within %v", h.path, h.addr, timeout)
		}
	}
}

func (h *hubProc) pid() int { return h.cmd.Process.Pid }

// ask sends one line to the hub's probe and returns its answer.
func (h *hubProc) ask(q string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := fmt.Fprintln(h.in, q); err != nil {
		return "", fmt.Errorf("ask the hub %q: %w", q, err)
	}
	select {
	case r := <-h.replies:
		if msg, ok := strings.CutPrefix(r, "error "); ok {
			return "", fmt.Errorf("the hub, to %q: %s", q, msg)
		}
		return r, nil
	case <-h.exited:
		return "", fmt.Errorf("the hub exited before answering %q", q)
	case <-time.After(time.Minute):
		return "", fmt.Errorf("the hub did not answer %q within a minute", q)
	}
}

// memory is the hub's memory after a GC and debug.FreeOSMemory in it:
// VmRSS (read here, from /proc), Go heap in use and stacks, goroutines.
func (h *hubProc) memory() (memSample, error) {
	r, err := h.ask("gc")
	if err != nil {
		return memSample{}, err
	}
	var s memSample
	if _, err := fmt.Sscanf(r, "gc %d %d", &s.goMem, &s.goroutines); err != nil {
		return memSample{}, fmt.Errorf("the hub's memory: %q: %w", r, err)
	}
	s.rss = vmRSS(h.pid())
	return s, nil
}

// startProfile has the hub write a CPU profile into path until stop.
func (h *hubProc) startProfile(path string) (stop func() error, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := h.ask("cpu-start " + abs); err != nil {
		return nil, err
	}
	return func() error {
		_, err := h.ask("cpu-stop")
		return err
	}, nil
}

// stop ends the hub as a terminal would (SIGTERM: it closes its clients
// and stores), killing it if it takes more than 30 s.
func (h *hubProc) stop() error {
	_ = h.in.Close()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-h.exited:
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.exited
		return errors.New("the hub did not stop within 30s of SIGTERM; killed")
	}
	return h.waitErr
}
