package ws

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
)

// These tests drive dispatch directly with batches, against clients whose
// sockets are real loopback TCP connections, and read what each socket
// received frame by frame.

// testPeer is the far end of a client's socket.
type testPeer struct {
	conn net.Conn
	r    *bufio.Reader
}

// addTestClient registers a client with the given query on h, as serve
// would after its greeting, and returns the other end of its socket.
func addTestClient(t *testing.T, h *Hub, topics, comunas string, sndBuf int) (*client, *testPeer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if sndBuf > 0 {
		_ = srv.(*net.TCPConn).SetWriteBuffer(sndBuf)
		_ = peer.(*net.TCPConn).SetReadBuffer(sndBuf)
	}
	req, err := parseRequest(topics, comunas, "")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{hub: h, id: "test", log: zerolog.Nop(), net: srv, nb: newNBWriter(srv), req: req,
		readerDone: make(chan struct{}), started: true}
	h.mu.Lock()
	c.idx = len(h.clients)
	h.clients = append(h.clients, c)
	h.mu.Unlock()
	t.Cleanup(func() {
		close(c.readerDone)
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
		c.abort()
		c.writers.Wait()
		_ = peer.Close()
	})
	return c, &testPeer{conn: peer, r: bufio.NewReader(peer)}
}

// next reads one frame and returns its opcode and payload.
func (p *testPeer) next(t *testing.T) (byte, []byte) {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
		t.Fatalf("read frame header: %v", err)
	}
	if hdr[0]&0x80 == 0 || hdr[1]&0x80 != 0 {
		t.Fatalf("frame header %x: want final and unmasked", hdr)
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		_, _ = io.ReadFull(p.r, ext[:])
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		_, _ = io.ReadFull(p.r, ext[:])
		n = binary.BigEndian.Uint64(ext[:])
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(p.r, payload); err != nil {
		t.Fatalf("read frame payload (%d bytes): %v", n, err)
	}
	return hdr[0] & 0x0F, payload
}

// positions reads n text frames and returns their positions.
func (p *testPeer) positions(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		op, payload := p.next(t)
		var m struct {
			Position string          `json:"position"`
			Data     json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(payload, &m); op != opText || err != nil {
			t.Fatalf("frame opcode %d, payload %.80s: want a text frame holding a message (%v)", op, payload, err)
		}
		out = append(out, m.Position)
	}
	return out
}

func chain(msgs ...notice.Message) []notice.Message {
	for i := range msgs {
		if i > 0 {
			msgs[i].Prev = msgs[i-1].Position
		}
	}
	return msgs
}

func TestDispatchBatchWithMixedFilters(t *testing.T) {
	h := NewHub(zerolog.Nop(), HubOptions{})
	defer h.Close()
	_, all := addTestClient(t, h, "", "", 0)
	_, alerts05101 := addTestClient(t, h, "alerts", "05101", 0)
	_, logOnly := addTestClient(t, h, "log", "", 0)
	_, none := addTestClient(t, h, "informes", "", 0)

	h.dispatch(chain(
		notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "1", Comunas: []string{"05109"}},
		notice.Message{Type: "log.added", Topic: notice.TopicLog, Position: "2"},
		notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "3", Comunas: []string{"05101"}},
		notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "4", Region: true},
		notice.Message{Type: "shift.updated", Topic: notice.TopicShifts, Position: "5"},
	))
	// A second batch, alone: the informes client's only message.
	h.dispatch(chain(notice.Message{Type: "informe.received", Topic: notice.TopicInformes, Position: "6", Prev: "5"}))

	for _, tc := range []struct {
		name string
		peer *testPeer
		want []string
	}{
		{"every topic", all, []string{"1", "2", "3", "4", "5", "6"}},
		{"alerts of 05101", alerts05101, []string{"3", "4"}},
		{"log", logOnly, []string{"2"}},
		{"informes", none, []string{"6"}},
	} {
		if got := tc.peer.positions(t, len(tc.want)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if st := h.Stats(); st.Received != 6 || st.Sent != 10 {
		t.Errorf("stats: got Received %d Sent %d, want 6 and 10", st.Received, st.Sent)
	}
}

// TestPartlyWrittenBatchIsFinishedInOrder: a socket whose buffer takes only
// part of a batch gets the rest from its writer goroutine, frames intact and
// in order, and later messages after them.
func TestPartlyWrittenBatchIsFinishedInOrder(t *testing.T) {
	h := NewHub(zerolog.Nop(), HubOptions{})
	defer h.Close()
	c, peer := addTestClient(t, h, "", "", 32<<10)
	big := json.RawMessage(`"` + strings.Repeat("x", 40<<10) + `"`)
	var msgs []notice.Message
	for i := 1; i <= 20; i++ {
		msgs = append(msgs, notice.Message{Type: "log.added", Topic: notice.TopicLog, Position: fmt.Sprint(i), Data: big})
	}
	h.dispatch(chain(msgs...))
	c.mu.Lock()
	queued := c.busy
	c.mu.Unlock()
	if !queued {
		t.Fatal("800 KiB went into a 32 KiB socket buffer at once; the test needs a partial write")
	}
	h.dispatch([]notice.Message{{Type: "log.added", Topic: notice.TopicLog, Position: "21", Prev: "20", Data: big}})

	var want []string
	for i := 1; i <= 21; i++ {
		want = append(want, fmt.Sprint(i))
	}
	if got := peer.positions(t, 21); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last != "21" {
		t.Errorf("resume token: got %q, want 21", last)
	}
}

// TestFanOutAcrossCores: with helpers running, a batch split among them
// still reaches every client once, in order.
func TestFanOutAcrossCores(t *testing.T) {
	h := NewHub(zerolog.Nop(), HubOptions{})
	defer h.Close()
	for range 2 {
		jobs := make(chan shardJob, 1)
		h.helpers = append(h.helpers, jobs)
		go runHelper(jobs)
	}
	defer func() {
		for _, jobs := range h.helpers {
			close(jobs)
		}
	}()
	const n = 3*minShard + 5
	peers := make([]*testPeer, n)
	for i := range peers {
		_, peers[i] = addTestClient(t, h, "", "", 0)
	}
	h.dispatch(chain(
		notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "1"},
		notice.Message{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "2"},
	))
	h.dispatch([]notice.Message{{Type: "alert.updated", Topic: notice.TopicAlerts, Position: "3", Prev: "2"}})
	for i, p := range peers { // each socket's buffer holds its three frames
		if got := p.positions(t, 3); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("client %d: got %v, want [1 2 3]", i, got)
		}
	}
	if got := h.Stats().Sent; got != 3*n {
		t.Errorf("Stats().Sent: got %d, want %d", got, 3*n)
	}
}
