package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

// openIdle opens n idle TCP connections to addr from the local address
// from (loopback) and returns them; the test closes them.
func openIdle(t *testing.T, addr, from string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	return conns
}

// healthz asks GET /healthz once from the local address from.
func healthz(addr, from string) (int, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext,
	}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitHealthy polls /healthz until 200, failing the test after within.
func waitHealthy(t *testing.T, addr, from string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, err := healthz(addr, from)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz from %s: %d %v after %v, want 200", from, code, err, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDescriptorExhaustion is issue 14's first attack: more idle TCP
// connections than the hub has descriptors. The hub keeps accepting once
// they close (fasthttp alone gave up on EMFILE for good).
func TestDescriptorExhaustion(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("starts a child process with a low RLIMIT_NOFILE (Linux)")
	}
	t.Parallel()
	// The total cap is set above the limit, so accept runs out of
	// descriptors, as it did before the caps.
	child := startChild(t, t.TempDir(), "HUB_TEST_NOFILE=200", "HUB_MAX_CONNS=1000", "HUB_MAX_CONNS_PER_IP=-1")
	conns := openIdle(t, child.addr, "127.0.0.1", 300)
	deadline := time.Now().Add(10 * time.Second)
	for !child.logged("accept failed; retrying with backoff") {
		if time.Now().After(deadline) {
			t.Fatal("the child never ran out of descriptors: the test proves nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	waitHealthy(t, child.addr, "127.0.0.1", 5*time.Second)
	if !child.logged("accepting again") {
		t.Error("no \"accepting again\" line after the burst")
	}
}

// TestConnectionCaps: with the default total cap (half of a 200-descriptor
// limit) and a per-address cap of 20, excess connections are closed at
// once, other addresses are still served, and all is well after they close.
func TestConnectionCaps(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("starts a child process with a low RLIMIT_NOFILE (Linux)")
	}
	t.Parallel()
	child := startChild(t, t.TempDir(), "HUB_TEST_NOFILE=200", "HUB_MAX_CONNS_PER_IP=20")
	if !child.logged(`"max_conns":100`) {
		t.Error(`no "max_conns":100 in the child's log: the automatic cap is not half of 200 descriptors`)
	}
	openIdle(t, child.addr, "127.0.0.1", 20)
	// The 21st connection from 127.0.0.1 is closed at once.
	if code, err := healthz(child.addr, "127.0.0.1"); err == nil {
		t.Fatalf("21st connection from one address answered %d, want it closed", code)
	}
	// Another address is served.
	waitHealthy(t, child.addr, "127.0.0.2", 5*time.Second)

	// The total cap: 4 addresses × 20 = 80 more, 100 in all; the next
	// connection, from a fifth address, is closed at once.
	for i := range 4 {
		openIdle(t, child.addr, net.IPv4(127, 0, 1, byte(i+1)).String(), 20)
	}
	waitClosed(t, child.addr, "127.0.0.9")
}

// waitClosed checks that a connection from from is closed without an answer
// (the listener may still be counting connections just closed).
func waitClosed(t *testing.T, addr, from string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, err := healthz(addr, from)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz from %s answered %d (%v), want the connection closed over the total cap", from, code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestListenerDeathExits: when the HTTP server's listener dies while the
// hub is not closing, Main reports it, so serve exits non-zero.
func TestListenerDeathExits(t *testing.T) {
	m := startMain(t, t.TempDir())
	m.ln.Close()
	select {
	case err := <-m.Failed():
		if err == nil {
			t.Fatal("nil error from Failed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listener closed under the server, and Main did not report it")
	}
}

// TestWebSocketCapsAndBadSince, issue 14's eighth item end to end: a user
// past the per-principal cap is refused with a 429 problem before any
// upgrade, and a since that is no position is closed with 4400.
func TestWebSocketCapsAndBadSince(t *testing.T) {
	m := startMainWith(t, t.TempDir(), func(c *Config) { c.WSMaxPerPrincipal = 2 })
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	for range 2 {
		conn, _, err := dialWS(t, m.Addr(), "?topics=log", cookieHeader(c))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if msg := read(t, conn); msg.Type != "hello" {
			t.Fatalf("got %+v, want hello", msg)
		}
	}
	_, resp, err := dialWS(t, m.Addr(), "?topics=log", cookieHeader(c))
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third WebSocket: %v %v, want 429 problem+json with Retry-After", resp, err)
	}

	// Another user is not affected; a malformed since is closed with 4400.
	code, _, err := c.call("POST", "/api/users", nil, `{"username":"ana","password":"otra clave de prueba","role":"viewer"}`, nil)
	if err != nil || code != 201 {
		t.Fatalf("create user: %d %v", code, err)
	}
	ana := newClient(t, m.Addr(), "ana", "otra clave de prueba")
	conn, _, err := dialWS(t, m.Addr(), "?since=x", cookieHeader(ana))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != ws.CloseBadSince || !strings.Contains(ce.Text, "since no válido") {
		t.Fatalf("since=x: got %v, want close %d \"since no válido…\"", err, ws.CloseBadSince)
	}
	// A well-formed position before the hub's history gets a snapshot.
	conn2, _, err := dialWS(t, m.Addr(), "?since=1", cookieHeader(ana))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if msg := read(t, conn2); msg.Type != "snapshot" {
		t.Fatalf("since=1: got %+v, want a snapshot", msg)
	}
}

func TestConnectionLimitConfig(t *testing.T) {
	parse := func(env map[string]string, args ...string) (*Config, error) {
		var c Config
		fs := newFlagSet("serve")
		bindServe(fs, &c, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &c, c.Validate()
	}
	c, err := parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.maxConns(1024); got != 768 {
		t.Errorf("default max conns at 1024 descriptors: got %d, want 768", got)
	}
	if got := c.maxConnsPerIP(); got != DefaultMaxConnsPerIP {
		t.Errorf("default per-IP cap: got %d, want %d", got, DefaultMaxConnsPerIP)
	}
	c, err = parse(map[string]string{"HUB_MAX_CONNS": "-1", "HUB_MAX_CONNS_PER_IP": "9"}, "--max-conns-per-ip", "7")
	if err != nil {
		t.Fatal(err)
	}
	if c.maxConns(1024) != 0 || c.maxConnsPerIP() != 7 {
		t.Errorf("got max conns %d, per IP %d; want 0 (no cap) and 7 (the flag wins)", c.maxConns(1024), c.maxConnsPerIP())
	}
	for _, env := range []map[string]string{{"HUB_MAX_CONNS": "muchas"}, {"HUB_WS_MAX_PER_IP": "-2"}} {
		if _, err := parse(env); err == nil {
			t.Errorf("%v: no configuration error", env)
		}
	}
}
