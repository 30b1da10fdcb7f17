package ws

import (
	"encoding/json"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
)

const (
	// maxClientMessage bounds what a client may send: it only sends pings.
	maxClientMessage = 512
	// closeGrace is how long a writer that sent a close frame waits for the
	// client's before cutting the connection.
	closeGrace = time.Second
	// maxCloseReason is the most a close frame's reason may hold (125 bytes
	// of control payload less the two of the code).
	maxCloseReason = 123
	// maxWriteBatch bounds how many queued frames one write system call
	// carries (writev), so a long backlog is interleaved with pings.
	maxWriteBatch = 64
	// keepQueue is the queue capacity a client keeps once its writer has
	// drained it; a larger one is released, so an idle client that was slow
	// once does not hold a full queue's memory.
	keepQueue = 8
)

// client is one WebSocket connection. Its reader is the goroutine Fiber
// hijacked the connection into. The hub writes prepared frames to the
// socket itself, never through the WebSocket library. (The library still
// writes a close frame of its own when the client breaks the protocol or
// sends too much; that write holds the socket's write lock, so it can cut
// into nothing but a frame the hub has only partly written, on a
// connection that is failing anyway.)
//
// Who may write is decided under mu. When the socket is idle (busy false),
// whoever has something to send (the hub's fan-out, the pinger, the reader
// answering a ping) writes it at once, without waiting: the kernel takes it
// whole, or the rest is queued and a writer goroutine is started, which
// owns the socket (busy true) until it has written everything queued, and
// then exits. So an idle connection has no goroutine but its reader, and a
// notice reaches a client that keeps up with one system call and no
// goroutine wake-up; a client that does not keep up fills its queue and is
// closed with CloseSlowConsumer, without the fan-out ever waiting for it.
type client struct {
	hub  *Hub
	id   string
	log  zerolog.Logger
	conn *fws.Conn // for reading only
	net  net.Conn  // the socket itself
	nb   *nbWriter // writes to the socket without waiting; nil if it cannot
	req  *request

	readerDone chan struct{}
	writers    sync.WaitGroup // the writer goroutine, while one runs

	idx     int    // position in hub.clients; guarded by hub.mu
	overCap string // the cap register found exceeded, if it refused c

	// Set by register under hub.mu before the first writer starts, then
	// owned by that writer (started: by every later one).
	started      bool
	hello        bool
	needSnapshot bool
	regSeq       uint64
	backlog      []*entry

	// Owned by whoever owns the socket.
	deadline bool // a write deadline is set (the non-blocking path needs none)

	mu         sync.Mutex // guards everything below
	busy       bool       // a writer goroutine owns the socket
	queue      []item     // waiting for the writer, oldest first
	pingDue    bool       // a WebSocket ping is due
	pongDue    bool       // a {"type":"pong"} is due
	closeCode  int        // set by kick: the writer closes with it after what is queued
	closeReply []byte     // the answer to the client's close frame, not yet written
	closeSent  bool       // a close frame went out: nothing more does
	ended      bool       // the reader ended or a write failed: only a partly written frame and closeReply may still go out
	skip       uint64     // live entries up to this seq are in the snapshot the client got
	last       string     // position of the last message written whole: the resume token
}

// item is something queued for the writer: a whole frame, or the rest of a
// frame the kernel took only part of.
type item struct {
	b        []byte
	position string // the message's position, "" if none
	seq      uint64 // the entry's seq, 0 for a hub message
	tail     bool   // b is the rest of a partly written frame: it must go out before anything else
	msg      bool   // counts as a message in Stats.Sent once written whole
}

// serve runs one connection; it is the upgrader's handler, in the goroutine
// that owns the hijacked connection, and it returns only once nothing writes
// to the connection any more (the upgrader recycles it after).
func (h *Hub) serve(wc *websocket.Conn) {
	req, ok := wc.Locals(localsKey).(*request)
	if !ok {
		h.log.Error().Msg("connection without a validated request; mount Hub.Handler, not the upgrader")
		return
	}
	nc := rawConn(wc.Conn.NetConn())
	c := &client{
		hub:        h,
		id:         uuid.NewString(),
		conn:       wc.Conn,
		net:        nc,
		nb:         newNBWriter(nc),
		req:        req,
		readerDone: make(chan struct{}),
		busy:       true, // the first writer sends the hello, snapshot or backlog before anything live
	}
	c.log = h.log.With().Str("conn_id", c.id).Str("actor", req.identity.Actor).Logger()
	if req.badSince {
		h.stats.badSince.Add(1)
		c.log.Debug().Str("remote_addr", req.ip).Str("since", req.since).Msg("since is no position; closed")
		c.refuse(CloseBadSince, badSinceReason)
		return
	}
	switch h.register(c) {
	case regClosed:
		c.refuse(CloseGoingAway, "server shutting down")
		return
	case regOverCap:
		h.stats.refused.Add(1)
		c.refuse(CloseTooManyConnections, tooManyReason(c.overCap))
		return
	}
	defer h.unregister(c)
	c.log.Info().Str("remote_addr", req.ip).Strs("topics", req.topicNames).Strs("comunas", req.comunas).
		Str("since", req.since).Bool("resumed", req.since != "" && !c.needSnapshot).
		Msg("client connected")
	start := time.Now()

	c.writers.Add(1)
	go c.writeLoop()
	err := c.readLoop()
	close(c.readerDone)
	c.mu.Lock()
	c.ended = true
	flush := c.closeReply != nil // the writer still owes the client its close reply
	c.mu.Unlock()
	if !flush {
		c.abort() // unblocks a writer stuck on a client that is gone
	}
	c.writers.Wait()
	c.abort()

	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	ev := c.log.Info().Dur("duration", time.Since(start)).Str("position", last)
	var ce *fws.CloseError
	if errors.As(err, &ce) {
		ev = ev.Int("client_close_code", ce.Code)
	}
	ev.Msg("client disconnected")
}

// badSinceReason is CloseBadSince's reason.
const badSinceReason = "since no válido / invalid since: reconnect without since"

// refuse closes a connection that was never registered, with code and
// reason, waiting briefly for the client's reply.
func (c *client) refuse(code int, reason string) {
	msg := fws.FormatCloseMessage(code, reason)
	if err := c.conn.WriteControl(fws.CloseMessage, msg, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			return
		}
	}
}

// rawConn returns the socket under a hijacked fasthttp connection, whose own
// Close does nothing (fasthttp closes the socket after the handler returns).
func rawConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// abort cuts the connection, unblocking its reader and writer.
func (c *client) abort() { _ = c.net.Close() }

func (h *Hub) recoverConn(wc *websocket.Conn) {
	if r := recover(); r != nil {
		h.log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Msg("connection handler panicked")
	}
}

// readLoop reads until the connection fails or closes: client pings (JSON
// and WebSocket), pongs and close frames. Any read refreshes the deadline.
// Its answers go through the same path as every other write.
func (c *client) readLoop() error {
	wait := 2 * c.hub.opts.PingInterval
	c.conn.SetReadLimit(maxClientMessage)
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(wait))
	})
	c.conn.SetPingHandler(func(data string) error {
		c.sendFrame(appendFrame(nil, opPong, []byte(data)), false)
		return nil
	})
	c.conn.SetCloseHandler(func(code int, _ string) error {
		c.replyClose(code)
		return nil
	})
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		var in struct {
			Type string `json:"type"`
		}
		if typ == fws.TextMessage && json.Unmarshal(data, &in) == nil && in.Type == TypePing {
			c.sendPong()
			continue
		}
		c.log.Debug().Int("bytes", len(data)).Msg("ignored client message")
	}
}

// closingLocked reports whether nothing new may be sent to c.
func (c *client) closingLocked() bool { return c.ended || c.closeSent || c.closeCode != 0 }

// startWriterLocked hands the socket to a new writer goroutine, which
// writes what is queued or due. c.mu must be held and the socket idle.
func (c *client) startWriterLocked() {
	c.busy = true
	c.writers.Add(1)
	go c.writeLoop()
}

// deliver sends es, entries that pass c's filters in seq order, to c: at
// once if its socket is idle and the kernel takes them, queued for its
// writer otherwise. all, if not nil, is every frame of es concatenated.
// scratch is the caller's buffer for concatenating frames. It returns how
// many messages were written whole and whether c was dropped as a slow
// consumer. It never waits for the client.
func (c *client) deliver(es []*entry, all []byte, scratch *[]byte) (sent int, dropped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closingLocked() {
		return 0, false
	}
	for len(es) > 0 && es[0].seq != 0 && es[0].seq <= c.skip { // already in the client's snapshot
		es, all = es[1:], nil
	}
	if len(es) == 0 {
		return 0, false
	}
	if c.busy || c.nb == nil {
		if len(c.queue)+len(es) > c.hub.opts.SendQueue {
			c.kickLocked(CloseSlowConsumer)
			return 0, true
		}
		for _, e := range es {
			c.queue = append(c.queue, item{b: e.frame, position: e.position, seq: e.seq, msg: true})
		}
		if !c.busy {
			c.startWriterLocked()
		}
		return 0, false
	}
	b := es[0].frame
	if len(es) > 1 {
		if b = all; b == nil {
			buf := (*scratch)[:0]
			for _, e := range es {
				buf = append(buf, e.frame...)
			}
			*scratch, b = buf, buf
		}
	}
	n, err := c.nb.write(b)
	off := 0
	for i, e := range es {
		if n >= off+len(e.frame) {
			off += len(e.frame)
			if e.position != "" {
				c.last = e.position
			}
			sent++
			continue
		}
		if err != nil {
			break
		}
		// The kernel's buffer is full: the writer takes over from here,
		// starting with the rest of a frame it took in part.
		if n > off {
			c.queue = append(c.queue, item{b: e.frame[n-off:], position: e.position, seq: e.seq, tail: true, msg: true})
		} else {
			c.queue = append(c.queue, item{b: e.frame, position: e.position, seq: e.seq, msg: true})
		}
		for _, e := range es[i+1:] {
			c.queue = append(c.queue, item{b: e.frame, position: e.position, seq: e.seq, msg: true})
		}
		c.startWriterLocked()
		break
	}
	if err != nil {
		c.failLocked(err)
	}
	return sent, false
}

// sendFrame sends a frame the hub makes (a pong, a ping): at once if the
// socket is idle, else after what is queued. A WebSocket pong is queued like
// a message, so a client that pings without reading is dropped as slow.
func (c *client) sendFrame(f []byte, msg bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closingLocked() {
		return
	}
	if c.busy || c.nb == nil {
		if len(c.queue) >= c.hub.opts.SendQueue {
			c.kickLocked(CloseSlowConsumer)
			c.hub.stats.dropped.Add(1)
			return
		}
		c.queue = append(c.queue, item{b: f, msg: msg})
		if !c.busy {
			c.startWriterLocked()
		}
		return
	}
	c.writeNowLocked(f, msg)
}

// sendPong answers a JSON ping; pongs not yet written are not repeated.
func (c *client) sendPong() { c.sendControl(&c.pongDue, pongFrame, true) }

// ping sends a WebSocket ping, unless one is already due.
func (c *client) ping() { c.sendControl(&c.pingDue, pingFrame, false) }

// sendControl writes frame now if the socket is idle, or marks it due
// (*due) for the writer; a frame already due is not repeated.
func (c *client) sendControl(due *bool, frame []byte, msg bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closingLocked() || *due {
		return
	}
	if c.busy || c.nb == nil {
		*due = true
		if !c.busy {
			c.startWriterLocked()
		}
		return
	}
	c.writeNowLocked(frame, msg)
}

// writeNowLocked writes f to the idle socket without waiting; the rest of
// it, if the kernel took only part, goes to a new writer.
func (c *client) writeNowLocked(f []byte, msg bool) {
	n, err := c.nb.write(f)
	switch {
	case err != nil:
		c.failLocked(err)
	case n == len(f):
		if msg {
			c.hub.stats.sent.Add(1)
		}
	default:
		c.queue = append(c.queue, item{b: f[n:], tail: n > 0, msg: msg})
		c.startWriterLocked()
	}
}

// replyClose answers the client's close frame (the reader calls it), unless
// the hub has sent or is about to send its own.
func (c *client) replyClose(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent || c.closeCode != 0 || c.ended {
		return
	}
	f := closeFrame(code, "")
	if c.busy || c.nb == nil {
		c.closeReply = f
		if !c.busy {
			c.startWriterLocked()
		}
		return
	}
	n, err := c.nb.write(f)
	switch {
	case err != nil:
		c.failLocked(err)
	case n == len(f):
		c.closeSent = true
	default:
		c.closeReply = f[n:]
		c.startWriterLocked()
	}
}

// kickLocked makes c's writer close the connection with code after what is
// queued, or, for a slow consumer, after the frame being written, dropping
// the rest. It reports whether c was not already closing. c.mu must be held.
func (c *client) kickLocked(code int) bool {
	if c.closingLocked() {
		return false
	}
	c.closeCode = code
	if code == CloseSlowConsumer {
		keep := c.queue[:0]
		for _, it := range c.queue {
			if it.tail {
				keep = append(keep, it)
			}
		}
		clear(c.queue[len(keep):])
		c.queue = keep
	}
	c.pingDue, c.pongDue = false, false
	if !c.busy {
		c.startWriterLocked()
	}
	return true
}

// failLocked records that the connection failed and cuts it, which ends the
// reader too. c.mu must be held.
func (c *client) failLocked(err error) {
	if !c.ended {
		c.logWriteError(err)
	}
	c.ended = true
	c.abort()
}

// writeLoop owns the socket: first the hello, snapshot or history backlog
// if the connection is new, then whatever is queued or due, until nothing
// is; then it gives the socket back and ends. It also sends the close
// frame of a kick, and the reply to the client's close.
func (c *client) writeLoop() {
	defer c.writers.Done()
	if !c.started {
		c.started = true
		if !c.greet() {
			return
		}
	}
	var its []item
	for {
		c.mu.Lock()
		its = its[:0]
		closing := c.ended || c.closeCode != 0
		for _, it := range c.queue {
			// An ended connection takes nothing but the rest of a partly
			// written frame.
			if it.tail || !c.ended && (it.seq == 0 || it.seq > c.skip) {
				its = append(its, it)
			}
		}
		clear(c.queue)
		c.queue = c.queue[:0]
		if cap(c.queue) > keepQueue {
			c.queue = nil
		}
		if !closing {
			if c.pongDue {
				its = append(its, item{b: pongFrame, msg: true})
				c.pongDue = false
			}
			if c.pingDue {
				its = append(its, item{b: pingFrame})
				c.pingDue = false
			}
		}
		if len(its) > 0 {
			c.mu.Unlock()
			if !c.writeItems(its) {
				return
			}
			continue
		}
		switch {
		case c.closeSent:
			c.mu.Unlock()
			return
		case c.ended:
			reply := c.closeReply
			c.closeReply, c.closeSent = nil, true
			c.mu.Unlock()
			if reply != nil {
				c.writeItems([]item{{b: reply}})
			}
			return
		case c.closeCode != 0:
			code, last := c.closeCode, c.last
			c.closeSent = true
			c.mu.Unlock()
			c.closeKicked(code, last)
			return
		case c.closeReply != nil:
			reply := c.closeReply
			c.closeReply, c.closeSent = nil, true
			c.mu.Unlock()
			c.writeItems([]item{{b: reply}})
			return
		case c.deadline:
			// The non-blocking path must not find an expired deadline.
			c.mu.Unlock()
			_ = c.net.SetWriteDeadline(time.Time{})
			c.deadline = false
			continue
		default:
			c.busy = false
			c.mu.Unlock()
			return
		}
	}
}

// writeItems writes its in one system call (writev) per maxWriteBatch
// frames, waiting at most HubOptions.WriteTimeout each time. On failure it
// cuts the connection and returns false. The caller owns the socket.
func (c *client) writeItems(its []item) bool {
	for len(its) > 0 {
		n := min(len(its), maxWriteBatch)
		bufs := make(net.Buffers, n)
		for i := range n {
			bufs[i] = its[i].b
		}
		_ = c.net.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteTimeout))
		c.deadline = true
		_, err := bufs.WriteTo(c.net)
		c.mu.Lock()
		if err != nil {
			c.failLocked(err)
			c.mu.Unlock()
			return false
		}
		sent := 0
		for _, it := range its[:n] {
			if it.position != "" {
				c.last = it.position
			}
			if it.msg {
				sent++
			}
		}
		c.mu.Unlock()
		c.hub.stats.sent.Add(uint64(sent))
		its = its[n:]
	}
	return true
}

// greet sends what a new connection gets first: the hello, the snapshot,
// or the history backlog (filtered). It reports false if the connection is
// over.
func (c *client) greet() bool {
	switch {
	case c.hello:
		c.mu.Lock()
		last := c.last
		c.mu.Unlock()
		return c.writeItems([]item{{b: encodeHub(notice.Message{Type: TypeHello, Position: last}), position: last, msg: true}})
	case c.needSnapshot:
		return c.snapshot()
	}
	backlog := c.backlog
	c.backlog = nil
	its := make([]item, 0, min(len(backlog), maxWriteBatch))
	for len(backlog) > 0 {
		its = its[:0]
		for len(backlog) > 0 && len(its) < maxWriteBatch {
			e := backlog[0]
			backlog[0], backlog = nil, backlog[1:]
			if c.req.match(e) {
				its = append(its, item{b: e.frame, position: e.position, seq: e.seq, msg: true})
			}
		}
		c.mu.Lock()
		stop := c.closingLocked()
		if !stop {
			if c.pongDue {
				its = append(its, item{b: pongFrame, msg: true})
				c.pongDue = false
			}
			if c.pingDue {
				its = append(its, item{b: pingFrame})
				c.pingDue = false
			}
		}
		c.mu.Unlock()
		if stop {
			return true // writeLoop closes
		}
		if !c.writeItems(its) {
			return false
		}
	}
	return true
}

// snapshot sends the snapshot message and sets c.skip to the seq through
// which queued live messages are already in it. It reports false if the
// connection is over.
func (c *client) snapshot() bool {
	h := c.hub
	var (
		data     json.RawMessage
		position string
	)
	var f []byte
	if h.opts.Snapshot == nil {
		position = h.latestPosition()
		f = encodeHub(notice.Message{Type: TypeSnapshot, Position: position, Data: data})
	} else {
		e := h.sharedSnapshot(c.req, c.regSeq)
		select {
		case <-e.done:
		case <-c.readerDone: // gone
			return true
		}
		if e.err != nil {
			c.mu.Lock()
			closing := c.closingLocked()
			c.mu.Unlock()
			if closing { // kicked (writeLoop sends the close) or gone
				return true
			}
			c.log.Error().Err(e.err).Msg("snapshot")
			c.closeNow(CloseInternalError, "snapshot unavailable")
			return false
		}
		f, position = e.frame, e.position
	}
	skip := h.skipThrough(position, c.regSeq)
	c.mu.Lock()
	c.skip = skip
	c.mu.Unlock()
	if !c.writeItems([]item{{b: f, position: position, msg: true}}) {
		return false
	}
	h.stats.snapshots.Add(1)
	c.log.Debug().Str("position", position).Int("bytes", len(f)).Msg("snapshot sent")
	return true
}

// closeNow closes the connection with code and reason, ahead of anything
// queued; the caller owns the socket.
func (c *client) closeNow(code int, reason string) {
	c.mu.Lock()
	if c.closeSent || c.ended {
		c.mu.Unlock()
		return
	}
	c.closeSent = true
	c.mu.Unlock()
	c.closeWith(code, reason)
}

// closeKicked closes the connection as the hub asked; last is the position
// of the last message the client got.
func (c *client) closeKicked(code int, last string) {
	switch code {
	case CloseSlowConsumer:
		c.log.Warn().Str("position", last).Int("send_queue", c.hub.opts.SendQueue).Msg("slow consumer dropped")
		c.closeWith(CloseSlowConsumer, resumeReason("slow consumer", last))
	case CloseServiceRestart:
		c.closeWith(CloseServiceRestart, resumeReason("broker gap", last))
	default:
		c.closeWith(CloseGoingAway, "server shutting down")
	}
}

// resumeReason is "<why>: resume with since=<position>", without the
// position if it would not fit a close frame.
func resumeReason(why, position string) string {
	r := why + ": resume with since=" + position
	if len(r) > maxCloseReason {
		return why + ": resume"
	}
	return r
}

// closeWith sends a close frame, waits briefly for the client's reply, so
// the client reads everything before the socket is cut, and cuts it. The
// caller owns the socket and has set closeSent.
func (c *client) closeWith(code int, reason string) {
	_ = c.net.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteTimeout))
	if _, err := c.net.Write(closeFrame(code, reason)); err != nil {
		c.log.Debug().Err(err).Int("close_code", code).Msg("close frame not sent")
		c.abort()
		return
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
	c.abort()
}

func (c *client) logWriteError(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.log.Warn().Err(err).Str("position", c.last).Msg("write timed out")
		return
	}
	if !errors.Is(err, net.ErrClosed) {
		c.log.Debug().Err(err).Msg("write")
	}
}

// encodeHub frames a hub-made message, which cannot fail to encode.
func encodeHub(m notice.Message) []byte {
	f, err := encodeFrame(m)
	if err != nil {
		panic("realtime: encode " + m.Type + ": " + err.Error())
	}
	return f
}
