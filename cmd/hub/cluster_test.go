package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// fleetEnv is the configuration two hub instances share: events and read
// models in one Postgres schema, notices and sessions in Redis.
func fleetEnv(t *testing.T, redisAddr, prefix string) []string {
	dsn := testsvc.Postgres(t)
	return []string{"HUB_EVENTSTORE=" + dsn, "HUB_READMODEL=" + dsn, "HUB_BROKER=redis://" + redisAddr, "HUB_REDIS_PREFIX=" + prefix}
}

// follower is a WebSocket client that keeps itself up to date the way the
// UI does: it applies changes, replaces its state on a snapshot, and
// reconnects with since=<last position> after any close.
type follower struct {
	t      *testing.T
	addr   string
	header http.Header

	mu        sync.Mutex
	positions []int64           // positions of the changes received, in order
	titles    map[string]string // log entry id -> text, as this client knows it
	conn      *websocket.Conn
	closed    bool
	last      string
	snapshots int
}

func newFollower(t *testing.T, addr string, header http.Header) *follower {
	f := &follower{t: t, addr: addr, header: header, titles: map[string]string{}}
	go f.run()
	return f
}

func (f *follower) run() {
	backoff := 50 * time.Millisecond
	for attempt := 0; attempt < 400; attempt++ {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return
		}
		q := "?topics=log"
		if f.last != "" {
			q += "&since=" + f.last
		}
		f.mu.Unlock()
		conn, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws://"+f.addr+"/ws"+q, f.header)
		if err != nil {
			time.Sleep(backoff)
			continue
		}
		f.mu.Lock()
		f.conn = conn
		f.mu.Unlock()
		for {
			var m wsMessage
			if err := conn.ReadJSON(&m); err != nil {
				break
			}
			f.apply(m)
		}
		conn.Close()
	}
}

func (f *follower) apply(m wsMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m.Type {
	case "hello":
		if f.last == "" {
			f.last = m.Position
		}
		return
	case "degraded":
		return
	case "snapshot":
		var s struct {
			Log struct {
				Entries []struct {
					ID   string `json:"id"`
					Text string `json:"text"`
				} `json:"entries"`
			} `json:"log"`
		}
		_ = json.Unmarshal(m.Data, &s)
		f.titles = map[string]string{}
		for _, e := range s.Log.Entries {
			f.titles[e.ID] = e.Text
		}
		f.snapshots++
	default:
		var e struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		_ = json.Unmarshal(m.Data, &e)
		f.titles[e.ID] = e.Text
		p, _ := strconv.ParseInt(m.Position, 10, 64)
		f.positions = append(f.positions, p)
	}
	if m.Position != "" {
		f.last = m.Position
	}
}

func (f *follower) has(ids map[string]string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, text := range ids {
		if f.titles[id] != text {
			return false
		}
	}
	return true
}

func (f *follower) stop() {
	f.mu.Lock()
	f.closed = true
	if f.conn != nil {
		f.conn.Close()
	}
	f.mu.Unlock()
}

// postLog writes a novedad through c and returns its id and text.
func postLog(t *testing.T, c *client, text string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	code, _, err := c.call("POST", "/api/log", nil, fmt.Sprintf(`{"text":%q}`, text), &out)
	if err != nil || code != 201 {
		t.Fatalf("post log: %d %v", code, err)
	}
	return out.ID
}

func waitAll(t *testing.T, what string, fs []*follower, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range fs {
		for !f.has(want) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: a client still misses changes after 30 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestFleetFanOut: two hub processes share Postgres and Redis; 100
// WebSocket clients are split across them; edits made on both instances
// reach all 100, each exactly once, in position order.
func TestFleetFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	addr, prefix := testsvc.Redis(t)
	env := fleetEnv(t, addr, prefix)
	a := startChild(t, t.TempDir(), env...)
	b := startChild(t, t.TempDir(), env...)
	ca := newClient(t, a.addr, testAdmin, testPassword)
	cb := newClient(t, b.addr, testAdmin, testPassword)

	var fs []*follower
	for i := 0; i < 100; i++ {
		c, hub := ca, a
		if i%2 == 1 {
			c, hub = cb, b
		}
		h := cookieHeader(c)
		h.Set("Origin", "http://"+hub.addr)
		fs = append(fs, newFollower(t, hub.addr, h))
	}
	defer func() {
		for _, f := range fs {
			f.stop()
		}
	}()
	waitConnected(t, fs)

	want := map[string]string{}
	for i := 0; i < 20; i++ {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		text := fmt.Sprintf("novedad %d", i)
		want[postLog(t, c, text)] = text
	}
	waitAll(t, "fan-out", fs, want)
	for i, f := range fs {
		f.mu.Lock()
		pos := append([]int64(nil), f.positions...)
		f.mu.Unlock()
		if len(pos) != len(want) {
			t.Fatalf("client %d got %d changes, want each of the %d exactly once: %v", i, len(pos), len(want), pos)
		}
		for j := 1; j < len(pos); j++ {
			if pos[j] <= pos[j-1] {
				t.Fatalf("client %d got positions out of order: %v", i, pos)
			}
		}
	}
}

func waitConnected(t *testing.T, fs []*follower) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range fs {
		for {
			f.mu.Lock()
			ok := f.last != "" || f.conn != nil
			f.mu.Unlock()
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("clients did not connect")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the hello frames land before the first edit
}

// TestFleetSurvivesRedisRestart: Redis is restarted in the middle of a
// stream of edits; edits keep succeeding and afterwards every client has
// every change. Sessions live in Redis (here without persistence) and do
// not survive its restart, so this fleet's writer and wall displays use an
// API token, which lives in Postgres.
func TestFleetSurvivesRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	redis := testsvc.PrivateRedis(t)
	env := fleetEnv(t, redis.Addr, "vigia-restart:")
	a := startChild(t, t.TempDir(), env...)
	b := startChild(t, t.TempDir(), env...)
	admin := newClient(t, a.addr, testAdmin, testPassword)
	var tok struct {
		Token string `json:"token"`
	}
	if code, _, err := admin.call("POST", "/api/tokens", nil, `{"name":"integracion","role":"operator"}`, &tok); err != nil || code != 201 {
		t.Fatalf("token: %d %v", code, err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + tok.Token}}
	writer := &client{base: "http://" + a.addr, http: &http.Client{Timeout: 10 * time.Second}}
	var fs []*follower
	for _, hub := range []*childHub{a, b, a, b, a, b} {
		fs = append(fs, newFollower(t, hub.addr, bearer))
	}
	defer func() {
		for _, f := range fs {
			f.stop()
		}
	}()
	waitConnected(t, fs)

	want := map[string]string{}
	for i := 0; i < 30; i++ {
		if i == 10 {
			redis.Stop()
		}
		if i == 20 {
			if err := redis.Start(); err != nil {
				t.Fatal(err)
			}
		}
		text := fmt.Sprintf("novedad %d", i)
		want[postLogRetry(t, writer, bearer.Get("Authorization"), text)] = text
		if i >= 10 && i < 20 {
			time.Sleep(50 * time.Millisecond) // keep Redis away long enough to be noticed
		}
	}
	waitAll(t, "after a Redis restart", fs, want)
	healed := 0
	for _, f := range fs {
		f.mu.Lock()
		healed += f.snapshots
		f.mu.Unlock()
	}
	if healed == 0 {
		t.Fatal("no client was resynchronised: the Redis outage went unnoticed, so the test proved nothing")
	}
}

// postLogRetry posts through c with the given Authorization; it retries,
// bounded, should a request fail while Redis is down.
func postLogRetry(t *testing.T, c *client, authorization, text string) string {
	t.Helper()
	for attempt := 0; attempt < 100; attempt++ {
		var out struct {
			ID string `json:"id"`
		}
		code, _, err := c.call("POST", "/api/log", map[string]string{"Authorization": authorization}, fmt.Sprintf(`{"text":%q}`, text), &out)
		if err == nil && code == 201 {
			return out.ID
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("post %q never succeeded", text)
	return ""
}

// TestFleetSessionsAndThrottling: a session made on A works on B; logout on
// B ends it on A; failed logins are counted across both.
func TestFleetSessionsAndThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	addr, prefix := testsvc.Redis(t)
	env := fleetEnv(t, addr, prefix)
	a := startChild(t, t.TempDir(), env...)
	b := startChild(t, t.TempDir(), env...)

	c := newClient(t, a.addr, testAdmin, testPassword)
	c.base = "http://" + b.addr
	if code, _, err := c.call("GET", "/api/auth/me", nil, "", nil); err != nil || code != 200 {
		t.Fatalf("session from A on B: %d %v", code, err)
	}
	old := cookieHeader(c).Get("Cookie")
	if code, _, err := c.call("POST", "/api/auth/logout", nil, "", nil); err != nil || code != 204 {
		t.Fatalf("logout on B: %d %v", code, err)
	}
	// The jar forgets the cookie on logout; replay it by hand on A, where
	// the session must be over too.
	anon := &client{base: "http://" + a.addr, http: http.DefaultClient}
	if code, _, _ := anon.call("GET", "/api/alerts", map[string]string{"Cookie": old}, "", nil); code != 401 {
		t.Fatalf("after logout on B, A accepted the old cookie (%d), want 401", code)
	}

	bad := `{"username":"admin","password":"no es la clave"}`
	for i := 0; i < 3; i++ {
		for _, h := range []*childHub{a, b} {
			cl := &client{base: "http://" + h.addr, http: http.DefaultClient}
			_, _, _ = cl.call("POST", "/api/auth/login", nil, bad, nil)
		}
	}
	cl := &client{base: "http://" + a.addr, http: http.DefaultClient}
	code, hdr, _ := cl.call("POST", "/api/auth/login", nil, `{"username":"admin","password":"`+testPassword+`"}`, nil)
	if code != 429 || hdr.Get("Retry-After") == "" {
		t.Fatalf("after 6 failures split over A and B, got %d Retry-After %q, want 429", code, hdr.Get("Retry-After"))
	}
	if !strings.Contains(hdr.Get("Content-Type"), "problem+json") {
		t.Fatalf("got %q", hdr.Get("Content-Type"))
	}
}
