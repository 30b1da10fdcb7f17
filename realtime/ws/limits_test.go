package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

// byHeader identifies a connection by its X-Principal header.
func byHeader(c *fiber.Ctx) (ws.Identity, error) {
	p := c.Get("X-Principal")
	return ws.Identity{Actor: p, Principal: p}, nil
}

func as(principal string) http.Header { return http.Header{"X-Principal": {principal}} }

// dialAs upgrades as principal; it returns the connection, or nil and the
// HTTP status of a refused handshake.
func dialAs(tb testing.TB, s *server, principal string) (*client, *http.Response) {
	tb.Helper()
	d := &fws.Dialer{HandshakeTimeout: wait}
	conn, resp, err := d.Dial(s.ws, as(principal))
	if err != nil {
		if resp == nil {
			tb.Fatalf("dial as %s: %v", principal, err)
		}
		return nil, resp
	}
	c := &client{tb: tb, conn: conn}
	tb.Cleanup(c.close)
	return c, resp
}

func TestCapsPerPrincipalAndAddress(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{identify: byHeader, hub: ws.HubOptions{MaxPerPrincipal: 3, MaxPerIP: 5}})
	var ana []*client
	for range 3 {
		c, resp := dialAs(t, s, "ana")
		if c == nil {
			t.Fatalf("connection %d for ana refused with %d, want it under the cap of 3", len(ana)+1, resp.StatusCode)
		}
		c.expect(ws.TypeHello, "")
		ana = append(ana, c)
	}
	// A fourth for ana: 429 before any upgrade, with Retry-After.
	if c, resp := dialAs(t, s, "ana"); c != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th connection for ana: got %v, want 429 with Retry-After", resp.Status)
	}
	// Another principal from the same address, up to the address's cap of 5.
	for range 2 {
		c, resp := dialAs(t, s, "beto")
		if c == nil {
			t.Fatalf("beto refused with %d under the address cap", resp.StatusCode)
		}
		c.expect(ws.TypeHello, "")
	}
	if c, resp := dialAs(t, s, "carla"); c != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th connection from one address: got %v, want 429", resp.Status)
	}
	// A closed connection frees its place.
	ana[0].close()
	waitFor(t, "4 clients", func() bool { return s.hub.Stats().Clients == 4 })
	if c, resp := dialAs(t, s, "ana"); c == nil {
		t.Fatalf("ana refused with %d after closing one", resp.StatusCode)
	}
	if st := s.hub.Stats(); st.Refused != 2 {
		t.Errorf("refused %d, want 2", st.Refused)
	}
}

// TestCapHoldsUnderConcurrentUpgrades: connections racing past the check
// before the upgrade are closed with CloseTooManyConnections; exactly the
// cap's worth get through.
func TestCapHoldsUnderConcurrentUpgrades(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{identify: byHeader, quiet: true, hub: ws.HubOptions{MaxPerPrincipal: 3}})
	var ok, refused, closed atomic.Int64
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &fws.Dialer{HandshakeTimeout: wait}
			conn, resp, err := d.Dial(s.ws, as("muro"))
			if err != nil {
				if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
					refused.Add(1)
				}
				return
			}
			// Held open until the end of the test.
			t.Cleanup(func() { conn.Close() })
			m, err := readMessage(conn)
			var ce *fws.CloseError
			switch {
			case err == nil && m.Type == ws.TypeHello:
				ok.Add(1)
			case asClose(err, &ce) && ce.Code == ws.CloseTooManyConnections && strings.Contains(ce.Text, "demasiadas conexiones"):
				closed.Add(1)
			default:
				t.Errorf("got %+v, %v; want a hello or close %d", m, err, ws.CloseTooManyConnections)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 3 || ok.Load()+refused.Load()+closed.Load() != 12 {
		t.Fatalf("%d connected, %d refused with 429, %d closed with %d; want 3 connected, the other 9 refused or closed",
			ok.Load(), refused.Load(), closed.Load(), ws.CloseTooManyConnections)
	}
}

func asClose(err error, ce **fws.CloseError) bool {
	e, ok := err.(*fws.CloseError)
	*ce = e
	return ok
}

// validSince accepts the positions these tests make (pos) and "never-seen".
func validSince(s string) bool { return strings.HasPrefix(s, "p") || s == "never-seen" }

func TestMalformedSinceIsClosedWithoutSnapshot(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		ValidSince: validSince,
		Snapshot: func(context.Context, []string, []string) (json.RawMessage, string, error) {
			calls.Add(1)
			return json.RawMessage(`{}`), pos(1), nil
		},
	}})
	c := dial(t, s, "since=x")
	got, ce := c.expectClose()
	if len(got) != 0 || ce.Code != ws.CloseBadSince || !strings.Contains(ce.Text, "since no válido") {
		t.Fatalf("got %d messages then close %d %q, want none then %d \"since no válido…\"", len(got), ce.Code, ce.Text, ws.CloseBadSince)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Snapshot called %d times for a malformed since", n)
	}
	if st := s.hub.Stats(); st.BadSince != 1 || st.Clients != 0 {
		t.Errorf("stats %+v, want BadSince 1, Clients 0", st)
	}
	// A well-formed since the history does not hold still gets a snapshot.
	dial(t, s, "since=never-seen").expect(ws.TypeSnapshot, pos(1))
}

// TestConcurrentResumesShareOneSnapshot is issue 14's memory attack: many
// clients resuming at once from positions the history no longer holds. The
// read models are read, and the snapshot encoded, once.
func TestConcurrentResumesShareOneSnapshot(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	release := make(chan struct{})
	s := startServer(t, serverOptions{quiet: true, hub: ws.HubOptions{
		History:    4,
		ValidSince: validSince,
		Snapshot: func(ctx context.Context, _, _ []string) (json.RawMessage, string, error) {
			calls.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
				return nil, "", ctx.Err()
			}
			return json.RawMessage(`{"alerts":[]}`), pos(10), nil
		},
	}})
	for i := 1; i <= 10; i++ {
		s.publish(t, msg(i, notice.TopicAlerts))
	}
	waitFor(t, "hub received 10 messages", func() bool { return s.hub.Stats().Received == 10 })

	const n = 20
	clients := make([]*client, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			since := pos(1) // too old: out of the history of 4
			if i%2 == 1 {
				since = "never-seen"
			}
			conn, err := dialConn(s, "since="+since, nil)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = &client{tb: t, conn: conn}
			t.Cleanup(clients[i].close)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitFor(t, "20 clients registered", func() bool { return s.hub.Stats().Clients == n })
	close(release)
	for _, c := range clients {
		c.expect(ws.TypeSnapshot, pos(10))
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("Snapshot called %d times for %d concurrent resumes, want 1", got, n)
	}
	// A client resuming later, with no change in between, shares it too.
	dial(t, s, "since="+pos(2)).expect(ws.TypeSnapshot, pos(10))
	// After a change, the next resume gets a fresh snapshot: the old one
	// may not hold the change, which that client would otherwise miss.
	s.publish(t, msg(11, notice.TopicAlerts))
	for _, c := range clients {
		c.expect("alerts.updated", pos(11))
	}
	dial(t, s, "since="+pos(3)).expect(ws.TypeSnapshot, pos(10))
	// The hub counts a snapshot after writing it, so the client may read it
	// before the count moves.
	waitFor(t, "every snapshot counted", func() bool { return s.hub.Stats().Snapshots >= n+2 })
	if got, st := calls.Load(), s.hub.Stats(); got != 2 || st.Built != 2 || st.Snapshots != n+2 {
		t.Fatalf("Snapshot called %d times, stats %+v; want 2 builds, %d snapshots sent", got, st, n+2)
	}
}

// TestBrokerGapDiscardsSharedSnapshots: after a broker gap the hub's seq
// has not moved for the notices it lost, so a snapshot built before the gap
// must not be shared after it.
func TestBrokerGapDiscardsSharedSnapshots(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		Snapshot: func(context.Context, []string, []string) (json.RawMessage, string, error) {
			calls.Add(1)
			return json.RawMessage(`{}`), pos(1), nil
		},
	}})
	c := dial(t, s, "since=gone")
	c.expect(ws.TypeSnapshot, pos(1))
	s.broker.cut()
	if _, ce := c.expectClose(); ce.Code != ws.CloseServiceRestart {
		t.Fatalf("close %d, want %d", ce.Code, ws.CloseServiceRestart)
	}
	waitFor(t, "resync", func() bool { return s.hub.Stats().Resyncs == 1 })
	dial(t, s, "since=gone").expect(ws.TypeSnapshot, pos(1))
	if n := calls.Load(); n != 2 {
		t.Fatalf("Snapshot called %d times, want 2: the one from before the gap was shared after it", n)
	}
}
