package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

type wsMessage struct {
	Type     string          `json:"type"`
	Position string          `json:"position"`
	Data     json.RawMessage `json:"data"`
}

// dialWS opens /ws on a hub with the given header (cookie or bearer).
func dialWS(t testing.TB, addr, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	return d.Dial("ws://"+addr+"/ws"+query, header)
}

// cookieHeader carries a logged-in client's session to a WebSocket dial.
func cookieHeader(c *client) http.Header {
	req, _ := http.NewRequest("GET", c.base, nil)
	h := http.Header{}
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	h.Set("Origin", c.base)
	return h
}

func read(t testing.TB, conn *websocket.Conn) wsMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	var m wsMessage
	if err := conn.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// TestLiveEditReachesEveryClient: an edit made over HTTP reaches 200
// WebSocket clients connected over loopback, each exactly once.
func TestLiveEditReachesEveryClient(t *testing.T) {
	const n = 200
	// One session for all of them: above the default per-user cap.
	m := startMainWith(t, t.TempDir(), func(c *Config) { c.WSMaxPerPrincipal = n })
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	var created struct {
		ID string `json:"id"`
	}
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"tsunami","level":"amarilla","title":"Tsunami","region":true}`, &created); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conn, resp, err := dialWS(t, m.Addr(), "?topics=alerts", cookieHeader(c))
		if err != nil {
			t.Fatalf("dial %d: %v (%v)", i, err, resp)
		}
		defer conn.Close()
		if hello := read(t, conn); hello.Type != "hello" {
			t.Fatalf("got %+v, want hello first", hello)
		}
		conns[i] = conn
	}
	if code, _, err := c.call("PATCH", "/api/alerts/"+created.ID, map[string]string{"If-Match": `"0"`}, `{"level":"roja"}`, nil); err != nil || code != 200 {
		t.Fatalf("patch: %d %v", code, err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i, conn := range conns {
		wg.Add(1)
		go func(i int, conn *websocket.Conn) {
			defer wg.Done()
			_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
			var msg wsMessage
			// The declaration's own notice may still arrive after the hello:
			// the 201 only waits for the read model, not for the push.
			for msg.Type == "" || msg.Type == "alert.declared" {
				if err := conn.ReadJSON(&msg); err != nil {
					errs <- err.Error()
					return
				}
			}
			var a struct {
				ID    string `json:"id"`
				Level string `json:"level"`
			}
			_ = json.Unmarshal(msg.Data, &a)
			if msg.Type != "alert.updated" || a.ID != created.ID || a.Level != "roja" {
				errs <- "client got " + string(msg.Data)
			}
			// Exactly once: nothing else arrives.
			_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if err := conn.ReadJSON(&msg); err == nil {
				errs <- "duplicate or extra message: " + msg.Type
			}
		}(i, conn)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestResumeWithSince: a client that disconnects and comes back with since
// gets exactly the changes it missed, in order, no duplicate, then live.
func TestResumeWithSince(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	post := func(text string) {
		t.Helper()
		if code, _, err := c.call("POST", "/api/log", nil, `{"text":"`+text+`"}`, nil); err != nil || code != 201 {
			t.Fatalf("post: %d %v", code, err)
		}
	}
	conn, _, err := dialWS(t, m.Addr(), "?topics=log", cookieHeader(c))
	if err != nil {
		t.Fatal(err)
	}
	read(t, conn) // hello
	post("antes")
	last := read(t, conn)
	if last.Type != "log.added" {
		t.Fatalf("got %+v", last)
	}
	conn.Close()

	var missed []string
	for i := 0; i < 5; i++ {
		text := "perdida " + string(rune('a'+i))
		post(text)
		missed = append(missed, text)
	}
	conn, _, err = dialWS(t, m.Addr(), "?topics=log&since="+last.Position, cookieHeader(c))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, want := range missed {
		msg := read(t, conn)
		var e struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(msg.Data, &e)
		if msg.Type != "log.added" || e.Text != want {
			t.Fatalf("got %s %q, want log.added %q", msg.Type, e.Text, want)
		}
	}
	post("en vivo")
	msg := read(t, conn)
	if !strings.Contains(string(msg.Data), "en vivo") {
		t.Fatalf("got %s after the missed ones, want the live change", msg.Data)
	}
}

func TestWebSocketNeedsCredentials(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	tests := []struct {
		name   string
		query  string
		header http.Header
		want   int
	}{
		{"anonymous", "", nil, 401},
		{"forged token", "?token=vgt_nope", nil, 401},
		{"cookie from another site", "", func() http.Header { h := cookieHeader(c); h.Set("Origin", "https://evil.example"); return h }(), 403},
		{"bad topic", "?topics=chismes", cookieHeader(c), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := dialWS(t, m.Addr(), tt.query, tt.header)
			if err == nil || resp == nil || resp.StatusCode != tt.want {
				code := 0
				if resp != nil {
					code = resp.StatusCode
				}
				t.Fatalf("got %v status %d, want refusal %d", err, code, tt.want)
			}
		})
	}
}

// TestScopeChangeReachesDisplaysOfOldAndNewComunas: a wall display filtered
// by comunas hears that an alert left its comunas (the notice carries the
// alert with its new comunas, and the display drops it), a display of the
// new comunas gets it, and one of neither hears nothing of it.
func TestScopeChangeReachesDisplaysOfOldAndNewComunas(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	var created struct {
		ID string `json:"id"`
	}
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"tsunami","level":"amarilla","title":"Marejada","comunas":["05101"]}`, &created); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	displays := map[string]*websocket.Conn{}
	for _, comuna := range []string{"05101", "05109", "05602"} {
		conn, resp, err := dialWS(t, m.Addr(), "?topics=alerts&comunas="+comuna, cookieHeader(c))
		if err != nil {
			t.Fatalf("dial %s: %v (%v)", comuna, err, resp)
		}
		defer conn.Close()
		if hello := read(t, conn); hello.Type != "hello" {
			t.Fatalf("display %s: got %+v, want hello first", comuna, hello)
		}
		displays[comuna] = conn
	}
	if code, _, err := c.call("PATCH", "/api/alerts/"+created.ID, map[string]string{"If-Match": `"0"`}, `{"comunas":["05109"],"reason":"el oleaje se desplazó"}`, nil); err != nil || code != 200 {
		t.Fatalf("patch scope: %d %v", code, err)
	}
	// A regional alert afterwards reaches every display: a sentinel that
	// shows what each got before it.
	var sentinel struct {
		ID string `json:"id"`
	}
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"tsunami","level":"roja","title":"Tsunami","region":true}`, &sentinel); err != nil || code != 201 {
		t.Fatalf("declare sentinel: %d %v", code, err)
	}
	type alertRow struct {
		ID      string   `json:"id"`
		Comunas []string `json:"comunas"`
	}
	want := map[string][]string{
		"05101": {"alert.updated " + created.ID + " [05109]", "alert.declared " + sentinel.ID},
		"05109": {"alert.updated " + created.ID + " [05109]", "alert.declared " + sentinel.ID},
		"05602": {"alert.declared " + sentinel.ID},
	}
	for comuna, conn := range displays {
		var got []string
		for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "alert.declared "+sentinel.ID) {
			msg := read(t, conn)
			var a alertRow
			_ = json.Unmarshal(msg.Data, &a)
			if msg.Type == "alert.declared" && a.ID == created.ID {
				continue // the first alert's own notice may follow the hello
			}
			s := msg.Type + " " + a.ID
			if msg.Type == "alert.updated" {
				s += " [" + strings.Join(a.Comunas, " ") + "]"
			}
			got = append(got, s)
		}
		if !slices.Equal(got, want[comuna]) {
			t.Errorf("display of %s: got %q, want %q", comuna, got, want[comuna])
		}
	}
}
