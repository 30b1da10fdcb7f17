package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"runtime/debug"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
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
)

var pongPayload = []byte(`{"type":"pong"}`)

// client is one WebSocket connection: a reader (the goroutine Fiber hijacked
// the connection into) and one writer goroutine, which alone writes data.
type client struct {
	hub  *Hub
	id   string
	log  zerolog.Logger
	conn *fws.Conn
	net  net.Conn // the socket itself, to cut it
	req  *request

	send       chan *entry   // live messages, filled by dispatch
	pong       chan struct{} // the reader asks the writer to answer a ping
	quit       chan struct{} // closed by Hub.kick
	readerDone chan struct{}
	writerDone chan struct{}

	// Guarded by hub.mu.
	idx       int
	kicked    bool
	closeCode int // set before quit is closed

	// Set by register under hub.mu, then owned by the writer.
	hello        bool
	needSnapshot bool
	regSeq       uint64
	backlog      []*entry
	last         string // position of the last message written; the resume token
}

// serve runs one connection; it is the upgrader's handler, in the goroutine
// that owns the hijacked connection, and it returns only once the writer has
// ended (the upgrader recycles the connection after it).
func (h *Hub) serve(wc *websocket.Conn) {
	req, ok := wc.Locals(localsKey).(*request)
	if !ok {
		h.log.Error().Msg("connection without a validated request; mount Hub.Handler, not the upgrader")
		return
	}
	c := &client{
		hub:        h,
		id:         uuid.NewString(),
		conn:       wc.Conn,
		net:        rawConn(wc.Conn.NetConn()),
		req:        req,
		send:       make(chan *entry, h.opts.SendQueue),
		pong:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	c.log = h.log.With().Str("conn_id", c.id).Str("actor", req.identity.Actor).Logger()
	if !h.register(c) {
		msg := fws.FormatCloseMessage(CloseGoingAway, "server shutting down")
		_ = c.conn.WriteControl(fws.CloseMessage, msg, time.Now().Add(h.opts.WriteTimeout))
		return
	}
	defer h.unregister(c)
	c.log.Info().Str("remote_addr", req.ip).Strs("topics", req.topicNames).Strs("comunas", req.comunas).
		Str("since", req.since).Bool("resumed", req.since != "" && !c.needSnapshot).
		Msg("client connected")
	start := time.Now()

	go c.writeLoop()
	err := c.readLoop()
	close(c.readerDone)
	<-c.writerDone

	ev := c.log.Info().Dur("duration", time.Since(start)).Str("position", c.last)
	var ce *fws.CloseError
	if errors.As(err, &ce) {
		ev = ev.Int("client_close_code", ce.Code)
	}
	ev.Msg("client disconnected")
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
func (c *client) readLoop() error {
	wait := 2 * c.hub.opts.PingInterval
	c.conn.SetReadLimit(maxClientMessage)
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(wait))
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
			select {
			case c.pong <- struct{}{}:
			default: // a pong is already pending
			}
			continue
		}
		c.log.Debug().Int("bytes", len(data)).Msg("ignored client message")
	}
}

// writeLoop is the connection's only data writer: first the hello, snapshot
// or history backlog, then live messages, pings and pongs, until it is
// kicked, the reader ends, or a write fails. It cuts the connection on exit,
// which ends the reader too.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	defer c.abort()
	h := c.hub
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()

	var skip uint64
	switch {
	case c.hello:
		if !c.write(encode(Message{Type: TypeHello, Position: c.last}), c.last) {
			return
		}
	case c.needSnapshot:
		var ok bool
		if skip, ok = c.snapshot(); !ok {
			return
		}
	}
	for {
		select {
		case <-c.quit:
			c.closeKicked()
			return
		case <-c.readerDone:
			return
		default:
		}
		var e *entry
		if len(c.backlog) > 0 {
			e, c.backlog[0], c.backlog = c.backlog[0], nil, c.backlog[1:]
			if !c.req.match(e) {
				continue
			}
			select {
			case <-c.pong:
				if !c.write(pongPayload, "") {
					return
				}
			case <-ping.C:
				if !c.ping() {
					return
				}
			default:
			}
		} else {
			c.backlog = nil
			select {
			case <-c.quit:
				c.closeKicked()
				return
			case <-c.readerDone:
				return
			case <-c.pong:
				if !c.write(pongPayload, "") {
					return
				}
				continue
			case <-ping.C:
				if !c.ping() {
					return
				}
				continue
			case e = <-c.send:
				if e.seq != 0 && e.seq <= skip { // seq 0: a control message, never in history
					continue
				}
			}
		}
		if !c.write(e.payload, e.position) {
			return
		}
	}
}

// snapshot sends the snapshot message and returns the seq through which the
// queued live messages are already in it.
func (c *client) snapshot() (uint64, bool) {
	h := c.hub
	var (
		data     json.RawMessage
		position string
	)
	if h.opts.Snapshot == nil {
		position = h.latestPosition()
	} else {
		ctx, cancel := context.WithTimeout(h.ctx, h.opts.SnapshotTimeout)
		defer cancel()
		go func() { // a client that leaves cancels its snapshot
			select {
			case <-c.readerDone:
				cancel()
			case <-ctx.Done():
			}
		}()
		var err error
		data, position, err = h.opts.Snapshot(ctx, c.req.topicNames, c.req.comunas)
		if err != nil {
			select {
			case <-c.quit:
				c.closeKicked()
				return 0, false
			case <-c.readerDone:
				return 0, false
			default:
			}
			c.log.Error().Err(err).Msg("snapshot")
			c.closeWith(CloseInternalError, "snapshot unavailable")
			return 0, false
		}
	}
	payload, err := json.Marshal(Message{Type: TypeSnapshot, Position: position, Data: data})
	if err != nil {
		c.log.Error().Err(err).Str("position", position).Msg("encode snapshot")
		c.closeWith(CloseInternalError, "snapshot unavailable")
		return 0, false
	}
	skip := h.skipThrough(position, c.regSeq)
	if !c.write(payload, position) {
		return 0, false
	}
	h.stats.snapshots.Add(1)
	c.log.Debug().Str("position", position).Int("bytes", len(payload)).Msg("snapshot sent")
	return skip, true
}

// closeKicked closes the connection as the hub asked.
func (c *client) closeKicked() {
	switch c.closeCode {
	case CloseSlowConsumer:
		c.log.Warn().Str("position", c.last).Int("send_queue", cap(c.send)).Msg("slow consumer dropped")
		c.closeWith(CloseSlowConsumer, resumeReason("slow consumer", c.last))
	case CloseServiceRestart:
		c.closeWith(CloseServiceRestart, resumeReason("broker gap", c.last))
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

// closeWith sends a close frame and waits briefly for the client's reply, so
// the client reads everything before the socket is cut.
func (c *client) closeWith(code int, reason string) {
	msg := fws.FormatCloseMessage(code, reason)
	if err := c.conn.WriteControl(fws.CloseMessage, msg, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		c.log.Debug().Err(err).Int("close_code", code).Msg("close frame not sent")
		return
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
}

func (c *client) write(payload []byte, position string) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteTimeout))
	if err := c.conn.WriteMessage(fws.TextMessage, payload); err != nil {
		c.logWriteError(err)
		return false
	}
	if position != "" {
		c.last = position
	}
	c.hub.stats.sent.Add(1)
	return true
}

func (c *client) ping() bool {
	if err := c.conn.WriteControl(fws.PingMessage, nil, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		c.logWriteError(err)
		return false
	}
	return true
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

// encode marshals a hub-made message, which cannot fail.
func encode(m Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic("realtime: encode " + m.Type + ": " + err.Error())
	}
	return b
}
