package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
)

// Close codes the hub sends (RFC 6455 §7.4; 4000–4999 are for applications).
// Whatever the code, a client reconnects with since=<the last position it
// received>, after a jittered backoff except for CloseSlowConsumer and
// CloseServiceRestart, where it may reconnect at once.
const (
	// CloseGoingAway (1001), reason "server shutting down": the instance is
	// stopping; another instance, or this one restarted, resumes the client.
	CloseGoingAway = websocket.CloseGoingAway
	// CloseInternalError (1011), reason "snapshot unavailable": the client
	// needed a snapshot and the read models could not give one.
	CloseInternalError = websocket.CloseInternalServerErr
	// CloseServiceRestart (1012), reason "broker gap: resume with since=<p>":
	// the hub's broker subscription lost messages, so its history was
	// discarded; the client's resume gets a snapshot.
	CloseServiceRestart = websocket.CloseServiceRestart
	// CloseSlowConsumer (4008), reason "slow consumer: resume with since=<p>":
	// the client's send queue overflowed; <p> is the position of the last
	// message written to it, so resuming with it loses and repeats nothing
	// while the hub's history still holds it. A private code rather than 1008
	// or 1013, so clients can tell it apart from policy and overload closes.
	CloseSlowConsumer = 4008
	// CloseTooManyConnections (4029, like HTTP 429), reason "demasiadas
	// conexiones … / too many … connections …": the connection would exceed
	// HubOptions.MaxPerPrincipal or MaxPerIP. The handler refuses the
	// upgrade with 429 when it can already tell; this close is for
	// connections that raced past that check. Reconnect with backoff.
	CloseTooManyConnections = 4029
	// CloseBadSince (4400, like HTTP 400), reason "since no válido /
	// invalid since: reconnect without since": since is not a position
	// this hub's store makes (HubOptions.ValidSince). The client should
	// forget it, connect without since and reload its state over HTTP.
	CloseBadSince = 4400
)

// Message types the hub itself sends or understands, besides the change
// notices it relays.
const (
	// TypeHello is the first message to a client that connected without
	// since: {"type":"hello","position":"<latest>"}, position omitted when the
	// hub has seen no change since it started.
	TypeHello = "hello"
	// TypeSnapshot is the first message to a client whose since the hub's
	// history no longer (or never) held: {"type":"snapshot",
	// "position":"<p>","data":…}, data as HubOptions.Snapshot produced it.
	TypeSnapshot = "snapshot"
	// TypeDegraded tells clients the broker connection is lost: live
	// updates pause (the connection stays open) and, once the broker is
	// back, every client is sent to resume (CloseServiceRestart).
	TypeDegraded = "degraded"
	// TypePing is what a client may send as text, {"type":"ping"}, for
	// clients (browsers) that cannot send WebSocket pings.
	TypePing = "ping"
	// TypePong is the hub's answer to TypePing: {"type":"pong"}.
	TypePong = "pong"
)

// Defaults for the zero fields of HubOptions.
const (
	DefaultHistory         = 10_000
	DefaultSendQueue       = 256
	DefaultPingInterval    = 25 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultSnapshotTimeout = 10 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
	DefaultReadBufferSize  = 512
	DefaultWriteBufferSize = 4096
	// DefaultMaxPerPrincipal: a user's browser tabs, or one display token
	// shared by a wall of screens, stay far below it.
	DefaultMaxPerPrincipal = 50
	// DefaultMaxPerIP: a control room behind one NAT address.
	DefaultMaxPerIP = 200
)

// SnapshotFunc returns the current state a client asked for, as the data of a
// snapshot message, and the position that state reflects. The web layer
// supplies it from the read models. topics are the client's (canonical
// order); comunas its comuna filter, empty for none. It runs in the
// connection's writer goroutine, so it may take a while; ctx ends after
// HubOptions.SnapshotTimeout, when the client leaves, or when the hub closes.
// Return the read models' checkpoint as position: live messages up to it are
// then not sent again.
type SnapshotFunc func(ctx context.Context, topics, comunas []string) (data json.RawMessage, position string, err error)

// HubOptions configures a Hub. The zero value is usable: every zero field
// takes its Default.
type HubOptions struct {
	// History is how many of the latest messages the hub keeps, in arrival
	// order, for clients resuming with since.
	History int
	// SendQueue is how many messages may wait for one client whose socket
	// does not take them at once; a client whose queue is full when a
	// message arrives is closed with CloseSlowConsumer, never waited for.
	SendQueue int
	// PingInterval is how often the server pings each client. A client that
	// sends nothing (pong included) for twice this long is disconnected.
	PingInterval time.Duration
	// WriteTimeout bounds each write to a client.
	WriteTimeout time.Duration
	// Snapshot produces the snapshot for a client whose since is not in the
	// history. If nil, the snapshot message carries no data, only the latest
	// position, and the client reloads its state over HTTP.
	Snapshot SnapshotFunc
	// SnapshotTimeout bounds one Snapshot call.
	SnapshotTimeout time.Duration
	// ShutdownTimeout bounds Close's wait for connections to say goodbye;
	// after it, the remaining connections are cut.
	ShutdownTimeout time.Duration
	// ReadBufferSize and WriteBufferSize are the upgrader's I/O buffer
	// sizes. They do not limit message sizes. The hub writes frames it
	// prepared itself, straight to the socket, so the library's write
	// buffers (pooled) serve only its own rare control replies, and idle
	// connections cost the read buffer only.
	ReadBufferSize, WriteBufferSize int
	// MaxPerPrincipal is the most connections open at once for one
	// Identity.Principal, MaxPerIP for one client address. 0 takes the
	// default, -1 means no cap. Over a cap the handler answers 429 before
	// the upgrade, or a connection that raced past it is closed with
	// CloseTooManyConnections.
	MaxPerPrincipal, MaxPerIP int
	// ValidSince reports whether since could be a position of the store
	// (positions are opaque here). A connection whose since it rejects is
	// closed with CloseBadSince instead of getting a snapshot. nil accepts
	// every since.
	ValidSince func(since string) bool
}

func (o HubOptions) withDefaults() HubOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	capDef := func(v *int, d int) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0 // no cap
		}
	}
	capDef(&o.MaxPerPrincipal, DefaultMaxPerPrincipal)
	capDef(&o.MaxPerIP, DefaultMaxPerIP)
	def(&o.History, DefaultHistory)
	def(&o.SendQueue, DefaultSendQueue)
	def(&o.ReadBufferSize, DefaultReadBufferSize)
	def(&o.WriteBufferSize, DefaultWriteBufferSize)
	defDur(&o.PingInterval, DefaultPingInterval)
	defDur(&o.WriteTimeout, DefaultWriteTimeout)
	defDur(&o.SnapshotTimeout, DefaultSnapshotTimeout)
	defDur(&o.ShutdownTimeout, DefaultShutdownTimeout)
	return o
}

// Stats is a point-in-time copy of the hub's counters, for /metrics.
type Stats struct {
	Clients   int64  // connections open now
	Connected uint64 // connections accepted since start
	Dropped   uint64 // clients closed as slow consumers
	Sent      uint64 // messages written to clients (hello, snapshot and pong included)
	Received  uint64 // messages received from the broker and fanned out
	Resumed   uint64 // connections resumed from history
	Snapshots uint64 // snapshots sent
	Resyncs   uint64 // broker subscriptions lost and renewed
	Built     uint64 // snapshots built (one may be sent to many clients)
	Refused   uint64 // connections refused or closed over a cap
	BadSince  uint64 // connections closed for a since that is no position
}

type counters struct {
	clients                                                         atomic.Int64
	connected, dropped, sent, received, resumed, snapshots, resyncs atomic.Uint64
	built, refused, badSince                                        atomic.Uint64
}

// Hub fans change notices from a Broker out to WebSocket clients, with
// per-client topic and comuna filters, resume from a bounded history, and
// eviction of slow clients. It is safe for concurrent use.
type Hub struct {
	log    zerolog.Logger
	opts   HubOptions
	ws     fiber.Handler
	ctx    context.Context // ends at Close: stops Run and snapshots
	cancel context.CancelFunc
	stats  counters

	mu      sync.Mutex // guards everything below, and client registration state
	ring    *ring
	seq     uint64 // seq of the newest entry
	latest  string // position of the newest entry that had one
	clients []*client
	closed  bool
	conns   sync.WaitGroup // one per registered client, done when its goroutines end
	// Registered connections per Identity.Principal and per address.
	perPrincipal, perIP map[string]int

	snapMu sync.Mutex
	snaps  map[snapKey]*snapEntry // the latest snapshot per filter

	// Owned by the goroutine running Run.
	run     []*entry        // the batch being dispatched
	fan     []*client       // the clients a batch goes to
	shard   shard           // the part of a fan-out Run's goroutine does itself
	helpers []chan shardJob // one per other core, each fed to a runHelper
	parts   sync.WaitGroup  // the helpers' parts of the fan-out under way
	results []shardResult   // their counts

	closeOnce sync.Once
	closeErr  error
}

// NewHub returns a hub; call Run to feed it and mount Handler to serve it.
func NewHub(log zerolog.Logger, opts HubOptions) *Hub {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		log:    log.With().Str("component", "realtime").Logger(),
		opts:   opts,
		ctx:    ctx,
		cancel: cancel,
		ring:   newRing(opts.History),

		perPrincipal: make(map[string]int),
		perIP:        make(map[string]int),
		snaps:        make(map[snapKey]*snapEntry),
	}
	h.ws = websocket.New(h.serve, websocket.Config{
		ReadBufferSize:  opts.ReadBufferSize,
		WriteBufferSize: opts.WriteBufferSize,
		WriteBufferPool: &sync.Pool{},
		RecoverHandler:  h.recoverConn,
	})
	go h.pingLoop()
	return h
}

// Run subscribes to b and fans every message out until ctx ends or the hub is
// closed; then it closes the hub (clients get CloseGoingAway) and returns
// Close's result. Call it once, before or while Handler serves.
//
// A subscription that ends while ctx is live lost messages (see Broker): Run
// subscribes again, discards its history (so no resume can cross the gap) and
// closes every client with CloseServiceRestart, so each resumes with a
// snapshot. A failing Subscribe is retried with backoff and logged; Run
// returns an error only if b is closed or Close could not end every
// connection.
func (h *Hub) Run(ctx context.Context, b realtime.Broker) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)()
	h.log.Info().Msg("hub running")
	err := h.consume(ctx, b)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	return err
}

func (h *Hub) consume(ctx context.Context, b realtime.Broker) error {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	first := true
	for range runtime.GOMAXPROCS(0) - 1 {
		jobs := make(chan shardJob, 1)
		h.helpers = append(h.helpers, jobs)
		go runHelper(jobs)
	}
	defer func() {
		for _, jobs := range h.helpers {
			close(jobs)
		}
		h.helpers = nil
	}()
	var batch []notice.Message
	for {
		ch, err := b.Subscribe(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, realtime.ErrClosed):
			return fmt.Errorf("run: %w", err)
		case err != nil:
			h.log.Error().Err(err).Dur("retry_in", backoff).Msg("subscribe to broker")
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		if !first {
			h.resync()
		}
		first = false
		for m := range ch {
			// Take whatever else is already waiting, to write it to each
			// client together.
			batch = append(batch[:0], m)
		more:
			for len(batch) < maxBatch {
				select {
				case m, ok := <-ch:
					if !ok {
						break more // the range sees the close next
					}
					batch = append(batch, m)
				default:
					break more
				}
			}
			h.dispatch(batch)
			clear(batch)
		}
		if ctx.Err() != nil {
			return nil
		}
		h.log.Error().Msg("broker subscription lost messages; resubscribing and resynchronising clients")
		h.degraded()
	}
}

// maxBatch bounds how many notices already waiting in the broker's channel
// one fan-out takes together: each client then gets all of them that pass
// its filters in one write.
const maxBatch = 64

// minShard is the fewest clients worth handing to another core.
const minShard = 64

// degradedEntry tells clients live updates are interrupted; they keep their
// connection and get resynchronised when the broker is back. Not history.
var degradedEntry = &entry{frame: degradedFrame}

// degraded tells every client that live updates are interrupted.
func (h *Hub) degraded() {
	h.mu.Lock()
	clients := append([]*client(nil), h.clients...)
	h.mu.Unlock()
	var scratch []byte
	es := []*entry{degradedEntry}
	dropped := 0
	for _, c := range clients {
		if _, d := c.deliver(es, nil, &scratch); d {
			dropped++
		}
	}
	h.stats.dropped.Add(uint64(dropped))
}

// dispatch encodes msgs, checks each follows the one before (Prev), and fans
// them out. A notice that does not follow the last one this hub received
// means one was lost on the way: the clients are sent to resynchronise
// before it is fanned out.
func (h *Hub) dispatch(msgs []notice.Message) {
	h.mu.Lock()
	prev := h.latest
	h.mu.Unlock()
	run := h.run[:0]
	for _, m := range msgs {
		if m.Position != "" && prev != "" && m.Prev != prev {
			h.fanOut(run)
			run = run[:0]
			h.log.Error().Str("position", m.Position).Str("prev", m.Prev).Msg("change notice missing before this one; resynchronising clients")
			h.resync()
		}
		f, err := encodeFrame(m)
		if err != nil {
			h.log.Error().Err(err).Str("position", m.Position).Str("event_type", m.Type).Msg("drop unencodable message")
			continue
		}
		run = append(run, &entry{topic: topicBit(m.Topic), region: m.Region, comunas: m.Comunas, position: m.Position, frame: f})
		if m.Position != "" {
			prev = m.Position
		}
	}
	h.fanOut(run)
	clear(run)
	h.run = run[:0]
}

// fanOut appends es to the history and sends each client those passing its
// filters, in one write per client, never waiting for one: a client that
// cannot take them at once gets them through its queue, and a full queue
// evicts it. The clients are split among GOMAXPROCS goroutines; each client
// is in one part, and fanOut returns when every part is done, so each client
// gets every batch in order.
func (h *Hub) fanOut(es []*entry) {
	if len(es) == 0 {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	for _, e := range es {
		h.seq++
		e.seq = h.seq
		h.ring.push(e)
		if e.position != "" {
			h.latest = e.position
		}
	}
	clients := append(h.fan[:0], h.clients...)
	h.mu.Unlock()

	var all []byte
	if len(es) > 1 {
		for _, e := range es {
			all = append(all, e.frame...)
		}
	}
	parts := min(len(clients)/minShard, 1+len(h.helpers))
	results := h.results[:0]
	if parts > 1 {
		results = append(results, make([]shardResult, parts-1)...)
		per := (len(clients) + parts - 1) / parts
		for i := range parts - 1 {
			lo := (i + 1) * per
			hi := min(lo+per, len(clients))
			h.parts.Add(1)
			h.helpers[i] <- shardJob{clients: clients[lo:hi], es: es, all: all, res: &results[i], wg: &h.parts}
		}
		h.shard.deliver(clients[:per], es, all)
		h.parts.Wait()
	} else {
		h.shard.deliver(clients, es, all)
	}
	sent, queued, dropped := h.shard.res.sent, h.shard.res.queued, h.shard.res.dropped
	h.shard.res = shardResult{}
	for _, r := range results {
		sent, queued, dropped = sent+r.sent, queued+r.queued, dropped+r.dropped
	}
	h.results = results[:0]
	clear(clients)
	h.fan = clients[:0]
	h.stats.received.Add(uint64(len(es)))
	h.stats.sent.Add(uint64(sent))
	h.stats.dropped.Add(uint64(dropped))
	h.log.Debug().Str("position", es[len(es)-1].position).Int("messages", len(es)).
		Int("clients", queued).Int("written", sent).Int("dropped", dropped).Msg("fan out")
}

// shard is one fan-out goroutine's reusable state.
type shard struct {
	matched []*entry
	scratch []byte
	res     shardResult
}

type shardResult struct {
	sent    int // messages written at once
	queued  int // clients given at least one message
	dropped int // clients evicted as slow consumers
}

type shardJob struct {
	clients []*client
	es      []*entry
	all     []byte
	res     *shardResult
	wg      *sync.WaitGroup
}

// deliver sends each of clients the entries of es that pass its filters.
func (s *shard) deliver(clients []*client, es []*entry, all []byte) {
	for _, c := range clients {
		matched := es
		a := all
		if len(es) == 1 {
			if !c.req.match(es[0]) {
				continue
			}
		} else {
			s.matched = s.matched[:0]
			for _, e := range es {
				if c.req.match(e) {
					s.matched = append(s.matched, e)
				}
			}
			if len(s.matched) == 0 {
				continue
			}
			if len(s.matched) < len(es) {
				matched, a = s.matched, nil
			}
		}
		sent, dropped := c.deliver(matched, a, &s.scratch)
		s.res.queued++
		s.res.sent += sent
		if dropped {
			s.res.dropped++
		}
	}
	clear(s.matched)
}

// runHelper is a fan-out goroutine on another core, until jobs is closed.
func runHelper(jobs <-chan shardJob) {
	var s shard
	for j := range jobs {
		s.deliver(j.clients, j.es, j.all)
		*j.res = s.res
		s.res = shardResult{}
		j.wg.Done()
	}
}

// kick makes c's writer close the connection with code.
func (h *Hub) kick(c *client, code int) {
	c.mu.Lock()
	c.kickLocked(code)
	c.mu.Unlock()
}

// resync discards the history after a broker gap and sends every client away
// to resume, which gets each a snapshot.
func (h *Hub) resync() {
	h.mu.Lock()
	h.ring.reset()
	for _, c := range h.clients {
		h.kick(c, CloseServiceRestart)
	}
	n := len(h.clients)
	h.mu.Unlock()
	// Notices were lost: a snapshot built before may not hold them, and
	// the seq, which counts only the notices received, cannot tell.
	h.snapMu.Lock()
	clear(h.snaps)
	h.snapMu.Unlock()
	h.stats.resyncs.Add(1)
	h.log.Warn().Int("clients", n).Msg("history discarded after broker gap; clients sent to resume")
}

// pingLoop pings every client every PingInterval until the hub closes. A
// client answers with a pong, which its reader counts as a sign of life.
func (h *Hub) pingLoop() {
	t := time.NewTicker(h.opts.PingInterval)
	defer t.Stop()
	var clients []*client
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		clients = append(clients[:0], h.clients...)
		h.mu.Unlock()
		for _, c := range clients {
			c.ping()
		}
		clear(clients)
	}
}

// register adds c to the fan-out and decides, under the same lock as the
// history appends, what it gets first: so nothing is lost or repeated at the
// seam between history and live messages.
func (h *Hub) register(c *client) registration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return regClosed
	}
	if which := h.overCapLocked(c.req); which != "" {
		c.overCap = which
		return regOverCap
	}
	if p := c.req.identity.Principal; p != "" {
		h.perPrincipal[p]++
	}
	h.perIP[c.req.ip]++
	c.last = c.req.since
	switch {
	case c.req.since == "":
		c.hello = true
		c.last = h.latest
	default:
		if i, ok := h.ring.find(c.req.since); ok {
			c.backlog = h.ring.after(i)
			h.stats.resumed.Add(1)
		} else {
			c.needSnapshot = true
			c.regSeq = h.seq
		}
	}
	c.idx = len(h.clients)
	h.clients = append(h.clients, c)
	h.conns.Add(1)
	h.stats.clients.Add(1)
	h.stats.connected.Add(1)
	return regOK
}

// registration is what register decided.
type registration int

const (
	regOK      registration = iota
	regClosed               // the hub is closed
	regOverCap              // over MaxPerPrincipal or MaxPerIP
)

// overCapLocked names the cap one more connection for r would exceed,
// "principal" or "ip", or returns "". h.mu must be held.
func (h *Hub) overCapLocked(r *request) string {
	if p := r.identity.Principal; p != "" && h.opts.MaxPerPrincipal > 0 && h.perPrincipal[p] >= h.opts.MaxPerPrincipal {
		return "principal"
	}
	if h.opts.MaxPerIP > 0 && h.perIP[r.ip] >= h.opts.MaxPerIP {
		return "ip"
	}
	return ""
}

// decrement lowers m[k], deleting it at zero.
func decrement(m map[string]int, k string) {
	if n := m[k] - 1; n > 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	if p := c.req.identity.Principal; p != "" {
		decrement(h.perPrincipal, p)
	}
	decrement(h.perIP, c.req.ip)
	last := len(h.clients) - 1
	h.clients[c.idx] = h.clients[last]
	h.clients[c.idx].idx = c.idx
	h.clients[last] = nil
	h.clients = h.clients[:last]
	h.mu.Unlock()
	h.stats.clients.Add(-1)
	h.conns.Done()
}

// skipThrough returns the seq through which live messages queued for a client
// registered at regSeq are already reflected in a snapshot taken at position:
// those it must not be sent. 0 if position is not among them.
func (h *Hub) skipThrough(position string, regSeq uint64) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i, ok := h.ring.find(position); ok && h.ring.at(i).seq > regSeq {
		return h.ring.at(i).seq
	}
	return 0
}

func (h *Hub) latestPosition() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Close sends every client a close frame with CloseGoingAway ("server shutting
// down"), stops Run, and waits up to HubOptions.ShutdownTimeout for the
// connections to end before cutting the rest. New connections are refused
// with 503. Idempotent; later calls return the first call's result. Call it
// before shutting the Fiber app down: Fiber does not track hijacked
// connections.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		for _, c := range h.clients {
			h.kick(c, CloseGoingAway)
		}
		n := len(h.clients)
		h.mu.Unlock()
		h.cancel()
		h.log.Info().Int("clients", n).Msg("hub shutting down")
		if wait(&h.conns, h.opts.ShutdownTimeout) {
			return
		}
		h.mu.Lock()
		h.log.Warn().Int("clients", len(h.clients)).Dur("timeout", h.opts.ShutdownTimeout).Msg("cutting connections that did not close in time")
		for _, c := range h.clients {
			c.abort()
		}
		h.mu.Unlock()
		if !wait(&h.conns, time.Second) {
			h.closeErr = fmt.Errorf("close hub: %d connections still open", h.stats.clients.Load())
		}
	})
	return h.closeErr
}

func wait(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Clients:   h.stats.clients.Load(),
		Connected: h.stats.connected.Load(),
		Dropped:   h.stats.dropped.Load(),
		Sent:      h.stats.sent.Load(),
		Received:  h.stats.received.Load(),
		Resumed:   h.stats.resumed.Load(),
		Snapshots: h.stats.snapshots.Load(),
		Resyncs:   h.stats.resyncs.Load(),
		Built:     h.stats.built.Load(),
		Refused:   h.stats.refused.Load(),
		BadSince:  h.stats.badSince.Load(),
	}
}
