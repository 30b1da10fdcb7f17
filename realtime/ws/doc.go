// Package ws is the WebSocket transport of live updates: the Hub, which
// fans the change notices a realtime.Broker carries out to WebSocket
// clients with per-client topic and comuna filters, resume from a bounded
// history, and eviction of slow clients, and its GET /ws handler (Fiber).
//
// It is apart from package realtime so that the broker port and its
// adapters (realtime/memory, realtime/redis) do not pull in the HTTP server.
// It must not import domain, eventstore, projections, web, command or auth:
// positions are opaque strings here, compared only for equality, and
// who may connect is decided by the web layer before Hub.Handler runs.
//
// # WebSocket protocol
//
// A client connects with
//
//	GET /ws?topics=alerts,shifts,log,informes&since=<position>&comunas=05101,05109
//
// (every parameter optional; see Hub.Handler). Invalid parameters get 400
// before any upgrade; a user or token with HubOptions.MaxPerPrincipal
// connections open (default 50), or an address with HubOptions.MaxPerIP
// (default 200), gets 429 with Retry-After. A since that is not a position
// at all (HubOptions.ValidSince) is upgraded and closed at once with
// CloseBadSince (4400), never given a snapshot. Every server message is a
// JSON text frame
//
//	{"type":"alert.updated","position":"…","data":{…}}
//
// with position omitted when there is none and data when empty. What comes
// first depends on since:
//
//   - no since: {"type":"hello","position":"<latest>"}, the position of the
//     newest change this hub instance has seen (omitted if none), then live
//     changes. A client without a position loads its state over HTTP after
//     the hello and applies the changes that follow it.
//   - since found in the hub's history (the last HubOptions.History
//     messages): every later message that passes the client's filters, in
//     order, then live ones, with no gap and no repeat at the seam.
//   - since not found (too old, unknown, or from before a restart or a broker
//     gap): {"type":"snapshot","position":"<p>","data":…} from
//     HubOptions.Snapshot, then live changes. Changes already reflected in
//     the snapshot are skipped when the hub can tell (the snapshot's position
//     is among the queued ones); otherwise a change may repeat what the
//     snapshot holds. Notices carry whole rows with their version, so a
//     client ignores a row whose version is not newer than the one it has.
//     Clients with the same filter (topics and comunas) that need a
//     snapshot while no change arrives share one: it is read and encoded
//     once (see sharedSnapshot), however many resume at once.
//
// Then live: every change notice passing the filters, in the order the hub
// received them. A client should remember the position of the last message
// it received and reconnect with since=<it> after any close.
//
// When the hub loses its broker subscription it sends every client
// {"type":"degraded"}: live updates pause, the connection stays open. When
// the subscription is back, or when a notice's Prev shows that one was lost
// on the way (pub/sub is at-most-once), the hub discards its history and
// closes every client with CloseServiceRestart; each resumes with a
// snapshot, so no client ever silently misses a change.
//
// Client to server: text {"type":"ping"} is answered with {"type":"pong"};
// anything else is ignored; a message over 512 bytes closes the connection
// with 1009. The server pings every HubOptions.PingInterval and disconnects a
// client that sent nothing, pongs included, for twice that.
//
// Close codes: CloseGoingAway (1001, "server shutting down"),
// CloseInternalError (1011, "snapshot unavailable"), CloseServiceRestart
// (1012, "broker gap: resume with since=<p>"), CloseSlowConsumer (4008,
// "slow consumer: resume with since=<p>", where <p> is the position of the
// last message written to that client; left out if the reason would exceed a close frame's 123 bytes),
// CloseTooManyConnections (4029, "demasiadas conexiones … / too many
// connections …", for a connection that raced past the 429 check; reconnect
// with backoff) and CloseBadSince (4400, "since no válido / invalid since:
// reconnect without since").
//
// Positions: one event gives one notice, so positions are unique; if several
// messages ever share one, a resume continues after the last of them. Every
// hub instance receives every notice, so a client may resume on any instance
// whose history still holds its position, and gets a snapshot otherwise.
//
// # Fan-out and slow clients
//
// Each notice is encoded once, as the WebSocket frame every client receives
// (and the history keeps), and fanned out by GOMAXPROCS goroutines, each
// writing to its share of the clients: a client whose socket is idle gets
// the frame with one non-blocking write system call, and notices that
// arrived together reach each client in one write. No goroutine is woken
// per client and an idle connection has no goroutine but its reader.
//
// Fan-out never waits for a client. When a socket's buffer does not take a
// whole write, the rest goes to that client's queue, drained by a writer
// goroutine started for it (every write bounded by
// HubOptions.WriteTimeout), which ends when the queue is empty. A client
// whose queue already holds HubOptions.SendQueue messages when another
// arrives is closed with CloseSlowConsumer and resumes on its own. Other
// clients are unaffected. (Over a socket that cannot be written without
// waiting, TLS terminated in the hub, every write goes through the queue.)
package ws
