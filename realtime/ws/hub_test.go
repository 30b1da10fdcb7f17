package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

func TestOnePublishReachesEveryClient(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS, quiet: true})
		const n = 200
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = dial(t, s, "")
			clients[i].expect(ws.TypeHello, "")
		}
		if got := s.hub.Stats().Clients; got != n {
			t.Fatalf("Stats().Clients: got %d, want %d", got, n)
		}

		s.publish(t, msg(1, notice.TopicAlerts))
		_ = clients[0].conn.SetReadDeadline(time.Now().Add(wait))
		_, raw, err := clients[0].conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"type":"alerts.updated","position":"p00001","data":{"n":1}}`; string(raw) != want {
			t.Fatalf("wire message: got %s, want %s", raw, want)
		}
		for _, c := range clients[1:] {
			if m := c.expect("alerts.updated", pos(1)); string(m.Data) != `{"n":1}` {
				t.Fatalf("data: got %s, want {\"n\":1}", m.Data)
			}
		}
		// The next message each client reads is the next one published: none got
		// the first twice.
		s.publish(t, msg(2, notice.TopicLog))
		for _, c := range clients {
			c.expect("log.updated", pos(2))
		}
	})
}

func TestReconnectWithSinceGetsExactlyTheMissedMessages(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS})
		c := dial(t, s, "")
		c.expect(ws.TypeHello, "")
		for i := 1; i <= 3; i++ {
			s.publish(t, msg(i, notice.TopicAlerts))
			c.expect("alerts.updated", pos(i))
		}
		c.close()

		for i := 4; i <= 8; i++ {
			s.publish(t, msg(i, notice.TopicShifts))
		}
		waitFor(t, "hub received 8 messages", func() bool { return s.hub.Stats().Received == 8 })

		c = dial(t, s, "since="+pos(3))
		for i := 4; i <= 8; i++ {
			c.expect("shifts.updated", pos(i))
		}
		s.publish(t, msg(9, notice.TopicLog))
		c.expect("log.updated", pos(9))
		if st := s.hub.Stats(); st.Resumed != 1 || st.Snapshots != 0 {
			t.Errorf("stats: got %+v, want Resumed 1, Snapshots 0", st)
		}

		// A client without since learns the latest position at once.
		c2 := dial(t, s, "")
		c2.expect(ws.TypeHello, pos(9))
	})
}

// Clients drop and resume over and over while messages keep coming: every
// client must see every position exactly once, in order, across resumes.
func TestResumeWhilePublishingHasNoGapNoRepeat(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS, quiet: true, hub: ws.HubOptions{SendQueue: 64}})
		const total, clients = 600, 3

		published := make(chan error, 1)
		go func() {
			for i := 1; i <= total; i++ {
				if err := s.broker.Publish(context.Background(), msg(i, notice.TopicAlerts)); err != nil {
					published <- err
					return
				}
			}
			published <- nil
		}()

		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for k := range clients {
			wg.Go(func() {
				if err := resumeUntil(s, total, 7+5*k); err != nil {
					errs <- fmt.Errorf("client %d: %w", k, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if err := <-published; err != nil {
			t.Fatal(err)
		}
	})
}

// resumeUntil reads every changes up to position total, disconnecting after
// every `every` messages and resuming with the last position it saw.
func resumeUntil(s *server, total, every int) error {
	deadline := time.Now().Add(3 * wait)
	seen := 0 // number of the last position seen
	since := ""
	for seen < total {
		if time.Now().After(deadline) {
			return fmt.Errorf("stuck at %d of %d", seen, total)
		}
		q := ""
		if since != "" {
			q = "since=" + since
		}
		conn, err := dialConn(s, q, nil)
		if err != nil {
			return err
		}
		if since == "" {
			m, err := readMessage(conn)
			if err != nil {
				return err
			}
			if m.Type != ws.TypeHello {
				return fmt.Errorf("first message %q, want hello", m.Type)
			}
			if m.Position != "" {
				if _, err := fmt.Sscanf(m.Position, "p%d", &seen); err != nil {
					return fmt.Errorf("hello position %q: %w", m.Position, err)
				}
			}
		}
		for range every {
			if seen == total {
				break
			}
			m, err := readMessage(conn)
			var ce *fws.CloseError
			if errors.As(err, &ce) && ce.Code == ws.CloseSlowConsumer {
				// A client dropped before its first message resumes from
				// nothing: the reason then names no position.
				last := ""
				if seen > 0 {
					last = pos(seen)
				}
				if want := "slow consumer: resume with since=" + last; ce.Text != want {
					return fmt.Errorf("close reason %q, want %q", ce.Text, want)
				}
				break
			}
			if err != nil {
				return err
			}
			if m.Position != pos(seen+1) {
				return fmt.Errorf("got %s after %s, want %s", m.Position, pos(seen), pos(seen+1))
			}
			seen++
		}
		_ = conn.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(fws.CloseNormalClosure, ""), time.Now().Add(wait))
		_ = conn.Close()
		if seen > 0 {
			since = pos(seen)
		}
	}
	return nil
}

func TestSnapshotWhenSinceIsNotInHistory(t *testing.T) {
	t.Parallel()
	type call struct{ topics, comunas []string }
	calls := make(chan call, 4)
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		History: 4,
		Snapshot: func(ctx context.Context, topics, comunas []string) (json.RawMessage, string, error) {
			calls <- call{topics, comunas}
			return json.RawMessage(`{"alerts":[]}`), pos(10), nil
		},
	}})
	for i := 1; i <= 10; i++ {
		s.publish(t, msg(i, notice.TopicAlerts))
	}
	waitFor(t, "hub received 10 messages", func() bool { return s.hub.Stats().Received == 10 })

	c := dial(t, s, "since="+pos(1)+"&topics=log,alerts&comunas=05101")
	if m := c.expect(ws.TypeSnapshot, pos(10)); string(m.Data) != `{"alerts":[]}` {
		t.Errorf("snapshot data: got %s", m.Data)
	}
	got := <-calls
	if !slices.Equal(got.topics, []string{"alerts", "log"}) || !slices.Equal(got.comunas, []string{"05101"}) {
		t.Errorf("Snapshot called with %+v, want topics [alerts log], comunas [05101]", got)
	}
	s.publish(t, msg(11, notice.TopicAlerts, "05101"))
	c.expect("alerts.updated", pos(11))

	// An unknown position is treated the same way.
	c2 := dial(t, s, "since=never-seen")
	c2.expect(ws.TypeSnapshot, pos(10))
	<-calls
	// The oldest position still in history (the last 4 of 11) resumes.
	c3 := dial(t, s, "since="+pos(8))
	c3.expect("alerts.updated", pos(9))
	if st := s.hub.Stats(); st.Snapshots != 2 || st.Resumed != 1 {
		t.Errorf("stats: got %+v, want Snapshots 2, Resumed 1", st)
	}
}

func TestSnapshotSkipsChangesItAlreadyHolds(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		called := make(chan struct{})
		release := make(chan string)
		s := startServer(t, serverOptions{tls: useTLS, hub: ws.HubOptions{
			Snapshot: func(ctx context.Context, topics, comunas []string) (json.RawMessage, string, error) {
				close(called)
				select {
				case p := <-release:
					return json.RawMessage(`{}`), p, nil
				case <-ctx.Done():
					return nil, "", ctx.Err()
				}
			},
		}})
		c := dial(t, s, "since=gone")
		select {
		case <-called:
		case <-time.After(wait):
			t.Fatalf("Snapshot not called within %v", wait)
		}
		// Changes arrive while the snapshot is read; it turns out to include p2.
		s.publish(t, msg(1, notice.TopicAlerts), msg(2, notice.TopicAlerts), msg(3, notice.TopicAlerts))
		waitFor(t, "hub received 3 messages", func() bool { return s.hub.Stats().Received == 3 })
		release <- pos(2)
		c.expect(ws.TypeSnapshot, pos(2))
		c.expect("alerts.updated", pos(3))
		s.publish(t, msg(4, notice.TopicAlerts))
		c.expect("alerts.updated", pos(4))
	})
}

func TestSnapshotFailureClosesWith1011(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		Snapshot: func(context.Context, []string, []string) (json.RawMessage, string, error) {
			return nil, "", errors.New("read model unavailable")
		},
	}})
	c := dial(t, s, "since=gone")
	got, ce := c.expectClose()
	if len(got) != 0 || ce.Code != ws.CloseInternalError || ce.Text != "snapshot unavailable" {
		t.Fatalf("got %d messages then close %d %q, want none then 1011 \"snapshot unavailable\"", len(got), ce.Code, ce.Text)
	}
}

func TestSlowConsumerIsDroppedOthersGetEverything(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS, sendBuf: 8 << 10, hub: ws.HubOptions{SendQueue: 8}})
		slowConn, err := dialConn(s, "", smallReadDialer(16<<10))
		if err != nil {
			t.Fatal(err)
		}
		slow := &client{tb: t, conn: slowConn}
		t.Cleanup(slow.close)
		slow.expect(ws.TypeHello, "")
		good := []*client{dial(t, s, ""), dial(t, s, ""), dial(t, s, "")}
		for _, c := range good {
			c.expect(ws.TypeHello, "")
		}

		// The slow client reads nothing now; publish big messages, each read by
		// the good clients before the next, until the hub gives up on it.
		big := `"` + strings.Repeat("x", 16<<10) + `"`
		bigMsg := func(i int) notice.Message {
			m := msg(i, notice.TopicLog)
			m.Data = json.RawMessage(big)
			return m
		}
		n := 0
		for s.hub.Stats().Dropped == 0 {
			n++
			if n > 2000 {
				t.Fatal("slow client not dropped after 2000 messages")
			}
			s.publish(t, bigMsg(n))
			for _, c := range good {
				c.expect("log.updated", pos(n))
			}
		}
		for range 3 {
			n++
			s.publish(t, bigMsg(n))
			for _, c := range good {
				c.expect("log.updated", pos(n))
			}
		}
		if st := s.hub.Stats(); st.Dropped != 1 {
			t.Fatalf("Stats().Dropped: got %d, want 1 (only the slow client)", st.Dropped)
		}

		// Reading again, the slow client finds a prefix of the messages, then the
		// close frame naming the last of them.
		got, ce := slow.expectClose()
		for i, m := range got {
			if m.Position != pos(i+1) {
				t.Fatalf("slow client message %d: got %s, want %s", i, m.Position, pos(i+1))
			}
		}
		last := ""
		if len(got) > 0 {
			last = got[len(got)-1].Position
		}
		if ce.Code != ws.CloseSlowConsumer || ce.Text != "slow consumer: resume with since="+last {
			t.Fatalf("close: got %d %q, want %d %q", ce.Code, ce.Text, ws.CloseSlowConsumer, "slow consumer: resume with since="+last)
		}
		t.Logf("slow client got %d of %d messages before the close", len(got), n)

		// And resumes on its own from there.
		if last == "" {
			t.Skip("slow client got no message before the close; nothing to resume from")
		}
		again := dial(t, s, "since="+last)
		for i := len(got) + 1; i <= n; i++ {
			again.expect("log.updated", pos(i))
		}
	})
}

func TestTopicAndComunaFilters(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS})
		queries := map[string]string{
			"A": "topics=alerts",
			"B": "topics=shifts,log",
			"C": "comunas=05101",
			"D": "topics=alerts&comunas=05109,05101",
		}
		want := map[string][]string{
			"A": {"1", "2", "3", "4", "sA"},
			"B": {"5", "6", "sS", "sL"},
			"C": {"1", "3", "5", "7", "sA", "sS", "sL", "sI"},
			"D": {"1", "2", "3", "sA"},
		}
		clients := map[string]*client{}
		for name, q := range queries {
			clients[name] = dial(t, s, q)
			clients[name].expect(ws.TypeHello, "")
		}
		prev := ""
		mk := func(position, topic string, region bool, comunas ...string) notice.Message {
			m := notice.Message{Type: topic + ".updated", Topic: topic, Position: position, Region: region, Comunas: comunas, Prev: prev}
			prev = position
			return m
		}
		s.publish(t,
			mk("1", notice.TopicAlerts, false, "05101"),
			mk("2", notice.TopicAlerts, false, "05109"),
			mk("3", notice.TopicAlerts, true),
			mk("4", notice.TopicAlerts, false, "05602"),
			mk("5", notice.TopicShifts, false),
			mk("6", notice.TopicLog, false, "05602"),
			mk("7", notice.TopicInformes, false),
			mk("x", "unknown-topic", true),
			// Sentinels: each client's list ends with those of its topics.
			mk("sA", notice.TopicAlerts, true),
			mk("sS", notice.TopicShifts, false),
			mk("sL", notice.TopicLog, true),
			mk("sI", notice.TopicInformes, false),
		)
		for name, c := range clients {
			var got []string
			for range want[name] {
				got = append(got, c.next().Position)
			}
			if !slices.Equal(got, want[name]) {
				t.Errorf("client %s (%s): got %v, want %v", name, queries[name], got, want[name])
			}
		}
	})
}

func TestBadRequestsAreRefusedBeforeUpgrade(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{identify: func(c *fiber.Ctx) (ws.Identity, error) {
		if c.Get("X-Test-Deny") != "" {
			return ws.Identity{}, fiber.ErrUnauthorized
		}
		return ws.Identity{Actor: "tester"}, nil
	}})
	cases := []struct {
		name   string
		query  string
		header http.Header
		want   int
	}{
		{"unknown topic", "topics=alerts,weather", nil, http.StatusBadRequest},
		{"comuna not five digits", "comunas=5101", nil, http.StatusBadRequest},
		{"comuna not digits", "comunas=05101,0510x", nil, http.StatusBadRequest},
		{"too many comunas", "comunas=" + comunaList(65), nil, http.StatusBadRequest},
		{"since too long", "since=" + strings.Repeat("9", ws.MaxSinceLength+1), nil, http.StatusBadRequest},
		{"since with a space", "since=a%20b", nil, http.StatusBadRequest},
		{"identity refused", "", http.Header{"X-Test-Deny": {"1"}}, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialStatus(t, s, tc.query, tc.header); got != tc.want {
				t.Errorf("got HTTP %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("plain GET", func(t *testing.T) {
		resp, err := http.Get(s.http)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			t.Errorf("got HTTP %d, want %d", resp.StatusCode, http.StatusUpgradeRequired)
		}
	})
	if got := s.hub.Stats().Connected; got != 0 {
		t.Errorf("Stats().Connected: got %d, want 0", got)
	}
	t.Run("valid query upgrades", func(t *testing.T) {
		if got := dialStatus(t, s, "topics=alerts,log&comunas=05101,05109&since=p1", nil); got != http.StatusSwitchingProtocols {
			t.Errorf("got HTTP %d, want 101", got)
		}
	})
}

func comunaList(n int) string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("05%03d", i+1)
	}
	return strings.Join(codes, ",")
}

func TestCloseSendsGoingAwayToEveryClient(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS})
		clients := make([]*client, 5)
		for i := range clients {
			clients[i] = dial(t, s, "")
			clients[i].expect(ws.TypeHello, "")
		}
		closed := make(chan error, 1)
		go func() { closed <- s.hub.Close() }()
		for i, c := range clients {
			if _, ce := c.expectClose(); ce.Code != ws.CloseGoingAway || ce.Text != "server shutting down" {
				t.Errorf("client %d: got close %d %q, want 1001 \"server shutting down\"", i, ce.Code, ce.Text)
			}
		}
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("close: %v", err)
			}
		case <-time.After(wait):
			t.Fatalf("Close did not return within %v", wait)
		}
		if got := s.hub.Stats().Clients; got != 0 {
			t.Errorf("Stats().Clients after Close: got %d, want 0", got)
		}
		if got := dialStatus(t, s, "", nil); got != http.StatusServiceUnavailable {
			t.Errorf("dial after Close: got HTTP %d, want 503", got)
		}
	})
}

func TestPingsAndJSONPong(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS, hub: ws.HubOptions{PingInterval: 50 * time.Millisecond}})
		c := dial(t, s, "")
		c.expect(ws.TypeHello, "")
		pinged := make(chan struct{}, 1)
		c.conn.SetPingHandler(func(data string) error {
			select {
			case pinged <- struct{}{}:
			default:
			}
			return c.conn.WriteControl(fws.PongMessage, []byte(data), time.Now().Add(wait))
		})
		// Read from now on without a pause, as a browser does: the ping
		// handler runs inside the reads, and a client that stops reading
		// for two ping intervals (a loaded machine's scheduler can take
		// that long between two reads of a test) is rightly dropped.
		type read struct {
			m   notice.Message
			err error
		}
		reads := make(chan read, 16)
		go func() {
			for {
				m, err := readMessage(c.conn)
				reads <- read{m, err}
				if err != nil {
					return
				}
			}
		}()
		next := func() notice.Message {
			r := <-reads
			if r.err != nil {
				t.Fatalf("read: %v", r.err)
			}
			return r.m
		}
		if err := c.conn.WriteMessage(fws.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		if m := next(); m.Type != ws.TypePong {
			t.Fatalf("got %q, want %q", m.Type, ws.TypePong)
		}
		select {
		case <-pinged:
		case <-time.After(wait):
			t.Fatalf("no server ping within %v", wait)
		}
		// Answering pings keeps the connection: a message still arrives.
		want := msg(1, notice.TopicLog)
		s.publish(t, want)
		if m := next(); m.Type != want.Type || m.Position != want.Position {
			t.Fatalf("after pings: got {%q %q}, want {%q %q}", m.Type, m.Position, want.Type, want.Position)
		}
	})
}

func TestSilentClientIsDisconnected(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{hub: ws.HubOptions{PingInterval: 50 * time.Millisecond}})
	c := dial(t, s, "") // never reads, so never answers a ping
	defer c.close()
	waitFor(t, "silent client disconnected", func() bool {
		st := s.hub.Stats()
		return st.Connected == 1 && st.Clients == 0
	})
}

func TestBrokerGapSendsClientsToResyncWithSnapshot(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		Snapshot: func(context.Context, []string, []string) (json.RawMessage, string, error) {
			return json.RawMessage(`{}`), pos(1), nil
		},
	}})
	c := dial(t, s, "")
	c.expect(ws.TypeHello, "")
	s.publish(t, msg(1, notice.TopicAlerts))
	c.expect("alerts.updated", pos(1))

	s.broker.cut()
	_, ce := c.expectClose()
	if ce.Code != ws.CloseServiceRestart || ce.Text != "broker gap: resume with since="+pos(1) {
		t.Fatalf("close: got %d %q, want 1012 %q", ce.Code, ce.Text, "broker gap: resume with since="+pos(1))
	}
	select {
	case <-s.broker.subscribed:
	case <-time.After(wait):
		t.Fatalf("hub did not subscribe again within %v", wait)
	}
	// History before the gap is gone: resuming gets a snapshot.
	c = dial(t, s, "since="+pos(1))
	c.expect(ws.TypeSnapshot, pos(1))
	s.publish(t, msg(2, notice.TopicAlerts))
	c.expect("alerts.updated", pos(2))
	if got := s.hub.Stats().Resyncs; got != 1 {
		t.Errorf("Stats().Resyncs: got %d, want 1", got)
	}
}

func TestCloseCutsClientsThatDoNotCloseInTime(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{sendBuf: 8 << 10, hub: ws.HubOptions{ShutdownTimeout: 200 * time.Millisecond}})
	conn, err := dialConn(s, "", smallReadDialer(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	stuck := &client{tb: t, conn: conn}
	t.Cleanup(stuck.close)
	stuck.expect(ws.TypeHello, "")
	// It stops reading; its writer blocks on a full socket, so no close frame
	// can reach it.
	m := msg(0, notice.TopicLog)
	m.Data = json.RawMessage(`"` + strings.Repeat("x", 64<<10) + `"`)
	for i := 1; i <= 20; i++ {
		m.Position, m.Prev = pos(i), ""
		if i > 1 {
			m.Prev = pos(i - 1)
		}
		s.publish(t, m)
	}
	waitFor(t, "hub received 20 messages", func() bool { return s.hub.Stats().Received == 20 })

	closed := make(chan error, 1)
	go func() { closed <- s.hub.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("Close did not return within %v", wait)
	}
	if got := s.hub.Stats().Clients; got != 0 {
		t.Errorf("Stats().Clients after Close: got %d, want 0", got)
	}
}

// TestMissingNoticeIsDetectedFromPrev: pub/sub may lose a message without
// the subscription ending; the Prev chain exposes it and the hub sends its
// clients to resynchronise instead of letting them miss a change.
func TestMissingNoticeIsDetectedFromPrev(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{hub: ws.HubOptions{
		Snapshot: func(context.Context, []string, []string) (json.RawMessage, string, error) {
			return json.RawMessage(`{}`), pos(4), nil
		},
	}})
	c := dial(t, s, "")
	c.expect(ws.TypeHello, "")
	m1, m2 := msg(1, notice.TopicAlerts), msg(2, notice.TopicAlerts)
	m2.Prev = pos(1)
	s.publish(t, m1, m2)
	c.expect("alerts.updated", pos(1))
	c.expect("alerts.updated", pos(2))

	m4 := msg(4, notice.TopicAlerts)
	m4.Prev = pos(3) // notice 3 never arrived
	s.publish(t, m4)
	_, ce := c.expectClose()
	if ce.Code != ws.CloseServiceRestart {
		t.Fatalf("close: got %d %q, want 1012", ce.Code, ce.Text)
	}
	c = dial(t, s, "since="+pos(2))
	c.expect(ws.TypeSnapshot, pos(4))
	if got := s.hub.Stats().Resyncs; got != 1 {
		t.Errorf("Stats().Resyncs: got %d, want 1", got)
	}
}

// TestBrokerLossTellsClientsTheyAreDegraded: when the broker subscription
// is lost, connected clients are told at once, before being resynchronised.
func TestBrokerLossTellsClientsTheyAreDegraded(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS})
		c := dial(t, s, "")
		c.expect(ws.TypeHello, "")
		s.broker.cut()
		msgs, ce := c.expectClose()
		if len(msgs) != 1 || msgs[0].Type != ws.TypeDegraded || ce.Code != ws.CloseServiceRestart {
			t.Fatalf("got %+v then close %v, want degraded then 1012", msgs, ce)
		}
	})
}

// TestClientControlFrames: the hub answers a client's WebSocket ping with a
// pong and its close frame with one of its own, and closes with 1009 a
// client that sends more than a ping's worth; its answers share the path of
// every other write, so they never cut into a notice.
func TestClientControlFrames(t *testing.T) {
	t.Parallel()
	overTCPAndTLS(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, serverOptions{tls: useTLS})
		s.publish(t, msg(1, notice.TopicAlerts))
		waitFor(t, "hub received a message", func() bool { return s.hub.Stats().Received == 1 })
		t.Run("ping gets pong", func(t *testing.T) {
			c := dial(t, s, "")
			c.expect(ws.TypeHello, pos(1))
			ponged := make(chan string, 1)
			c.conn.SetPongHandler(func(data string) error {
				ponged <- data
				return nil
			})
			if err := c.conn.WriteControl(fws.PingMessage, []byte("¿estás?"), time.Now().Add(wait)); err != nil {
				t.Fatal(err)
			}
			// Then a JSON ping: its answer comes after the first one's.
			if err := c.conn.WriteMessage(fws.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
				t.Fatal(err)
			}
			c.expect(ws.TypePong, "") // reading runs the pong handler first
			select {
			case got := <-ponged:
				if got != "¿estás?" {
					t.Errorf("pong data: got %q, want the ping's", got)
				}
			default:
				t.Fatal("the JSON pong came before the WebSocket pong, or without it")
			}
		})
		t.Run("close gets close", func(t *testing.T) {
			c := dial(t, s, "")
			c.expect(ws.TypeHello, pos(1))
			if err := c.conn.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(fws.CloseNormalClosure, "chao"), time.Now().Add(wait)); err != nil {
				t.Fatal(err)
			}
			if _, ce := c.expectClose(); ce.Code != fws.CloseNormalClosure {
				t.Errorf("close reply: got %d %q, want 1000", ce.Code, ce.Text)
			}
		})
		t.Run("oversized message closes with 1009", func(t *testing.T) {
			c := dial(t, s, "")
			c.expect(ws.TypeHello, pos(1))
			if err := c.conn.WriteMessage(fws.TextMessage, []byte(strings.Repeat("x", 600))); err != nil {
				t.Fatal(err)
			}
			if _, ce := c.expectClose(); ce.Code != fws.CloseMessageTooBig {
				t.Errorf("close: got %d %q, want 1009", ce.Code, ce.Text)
			}
		})
	})
}
