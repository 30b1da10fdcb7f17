// Package esdb is the event store on EventStoreDB (KurrentDB), the
// production store of a scaled-out hub: the eventstore.Store port on the
// official Go client, github.com/EventStore/EventStore-Client-Go/v4 (its
// package esdb, imported here as es).
//
// # A thin adapter, in one package
//
// Everything that knows the client is in this package: Open and the
// connection, Append, the reads, Subscribe and the translation of the
// client's types and errors. The client's maintained successor,
// github.com/kurrent-io/KurrentDB-Client-Go (package kurrentdb), speaks
// the same gRPC v1 services with the same shapes (AppendToStream,
// ReadStream, ReadAll, SubscribeToAll, the revision and position types,
// *Error with codes); moving to it is a change of this one package: the
// import, the renamed identifiers (it still parses esdb:// connection
// strings, besides kurrent:// and kdb://), and re-checking the
// client-specific notes below (wrong-version text, reconnection) against
// its source; where its newer append path sends structured revision
// conflicts, use them instead of the text. Nothing outside this package
// changes. The in-process test server (esdbtest) speaks the wire
// protocol, not the client's API, so it keeps proving the adapter after
// such a move.
//
// # Connection string
//
// Open hands the connection string to the client's ParseConnectionString
// as is:
// esdb://[user:password@]host:port[?tls=false&tlsVerifyCert=…&tlsCAFile=…&
// maxDiscoverAttempts=…&discoveryInterval=…&gossipTimeout=…&
// keepAliveInterval=…&defaultDeadline=…], or esdb+discover:// for a
// cluster. TLS is on unless tls=false (an insecure node needs tls=false).
// The client sends credentials only over TLS: with tls=false they are
// silently dropped. The hub reads and subscribes to $all, which a secure
// node lets only $admins read by default, so its user needs that right.
//
// # Appends
//
// Expected revisions map one to one: Any → es.Any, NoStream → es.NoStream,
// StreamExists → es.StreamExists, Exact(n) → es.StreamRevision{n} (n is
// capped at MaxInt64, because the node reads the revision as a signed
// 64-bit number and would take 2^64-1 as "no stream"; no stream ever gets
// that long). Each event goes with its own ID (so the node can recognise a
// retry), its Type as the event type, content type application/json, its
// data as given (JSON null when empty) and the other envelope fields in
// the event's custom metadata as JSON: {"actor":{…},"schema":n,"$correlationId":…,"$causationId":…},
// the correlation and causation under the keys EventStoreDB's own
// projections ($by_correlation_id) read.
//
// The node checks the expected revision inside its single writer, so there
// is one winner per revision. It answers a mismatch with a structured
// wrong-expected-version message (current revision or "no stream"); the
// Go client turns it into an *es.Error with ErrorCodeWrongExpectedVersion
// whose text is the only place the current revision survives ("expecting
// 'E' but got 'A'"). The adapter finds that error with errors.As (never
// es.FromError, which reports ok=false precisely when it found an error)
// and reads the actual revision from the text; if a future client changed
// the text, it falls back to reading the stream's last revision, which a
// concurrent writer may have moved on. The result is a
// *eventstore.VersionError with Actual and Exists.
//
// Idempotency is the node's (IndexWriter.CheckCommit, which the test
// server transcribes): event IDs are idempotency keys per stream.
//
//   - An exact retry (same IDs, same stream, same order) is recognised and
//     answers the original result, the revision and position of its last
//     event. With NoStream or Exact(n) the node compares the stored events
//     at the revisions the retry would take, so this holds forever. With Any
//     or StreamExists it looks the IDs up in an in-memory cache (8 MiB, lost
//     when the node restarts), so a retry after a node restart, or long
//     after, is appended again. The hub's commands append with NoStream or
//     Exact revisions, so their retries are safe.
//   - A partial overlap (the first event stored, a later one not) is
//     "corrupted idempotency", which the node answers as a wrong expected
//     version. With Any, or StreamExists on an existing stream, that answer
//     can only mean a partial overlap, and the adapter returns
//     eventstore.ErrDuplicateEvent; with NoStream or Exact(n) it cannot be
//     told from a plain mismatch and is a *VersionError.
//   - A retry whose IDs are all stored but in another order is accepted by
//     the node as idempotent; when the answer shows it (the last ID sits at
//     a revision lower than the number of events minus one) the adapter
//     returns ErrDuplicateEvent, otherwise it cannot tell.
//   - Not enforced by the node, so not by the adapter: an ID already used
//     in another stream is appended again (IDs are unique per stream only),
//     and so is an append whose first event is new and a later one is not.
//     The contract suite's "same events in another stream" case is skipped
//     for this adapter for that reason, loudly; see esdb_test.go.
//
// An acknowledged append is durable: a single node flushes its
// transaction file before it acknowledges (unless run with
// --unsafe-disable-flush-to-disk). RecordedAt is the node's "created"
// stamp (100 ns resolution, UTC): the node stamps the time, so there is no
// WithClock option here, unlike the embedded and Postgres stores.
//
// # Reads and positions
//
// A Position is the node's commit/prepare pair. Events written by one
// append on a current node are each "self-committed", so commit == prepare
// and the resume token is a single number; older data may carry two. The
// node has one writer, so commit order is position order and $all has no
// late commits. ReadStream maps Forwards/Backwards and Last (es.End), asks
// for math.MaxInt64 events when there is no limit, and reads a missing
// stream (the node's stream-not-found answer) as an empty slice. The
// client's ReadAll has no server-side filter, so ReadAll pages through
// $all (512 events a call), drops the event at from (the node reads from a
// position inclusively; the port reads strictly after it), skips system
// streams ($-prefixed) and applies the prefixes in process.
//
// # Subscriptions
//
// Subscribe is SubscribeToAll from es.Start or strictly after the given
// position, with a server-side stream-name filter: the prefixes, or the
// regex ^[^$] (every non-system stream) when there are none. The filter is
// applied again in process. Checkpoints, caught-up and fell-behind
// messages are ignored. When the stream drops for a connection reason
// (the node restarted or went away), the subscription resubscribes on a
// fresh connection, with backoff (50 ms doubling to 2 s) and for as long
// as it takes, strictly after the last event it received, so there is no
// gap and no duplicate. (A checkpoint can be ahead of that, but the node
// may name the position of a record it has not yet looked at, so the
// adapter does not resume from one.) Any other error ends the
// subscription with that error. Events are delivered one at a time on a
// 64-slot channel; a slow subscriber slows only its own gRPC stream.
//
// # Connections and reconnection
//
// Errors meaning the node cannot be reached now (gRPC Unavailable, the
// client's deadline, a closed client, a failed discovery, a follower
// answering "not leader") wrap eventstore.ErrUnavailable; the outcome of
// an append that fails so is unknown, and retrying it with the same event
// IDs and expected revision is safe (see Idempotency above). A call
// whose stream the node ends early fails in the client with a bare io.EOF
// (it does not fetch the status); the adapter counts that as the node
// going away, except for an append over the node's default maximum append
// size (1 MiB), which the node refuses exactly that way. Three
// behaviours of the v4 client (read in its source) shape how the adapter
// connects:
//
//   - When discovery fails (MaxDiscoverAttempts × DiscoveryInterval, by
//     default 10 × 100 ms when the port refuses), the client closes itself
//     for good.
//   - Its connection handle is served by one goroutine through an
//     unbuffered channel: callers that queue behind a discovery that then
//     fails block forever, and closing a client while a caller is queued
//     panics.
//   - After a lost connection it either keeps its grpc.ClientConn (when a
//     subscription drops, which it does not tell its connection goroutine),
//     whose reconnection backoff can grow to two minutes, or rediscovers
//     and replaces it without closing the old one.
//
// So the adapter uses a client until it sees a connection error and then
// retires it: new calls get a fresh client whose first connection is made
// by one goroutine before anyone else uses it, and the old client is
// closed once no call is using it. Each call runs on its own goroutine and
// the caller also returns (ErrUnavailable) when the connection it used is
// retired, its context ends or the store closes, so a caller never waits
// on the client's channel; the rare call left queued inside a dead client
// stays parked there, with its context cancelled so that it can do
// nothing when it wakes, and keeps that client from being closed (a leak
// of one goroutine, never a panic). How long a call waits while the node
// is down is one discovery: the connection string's maxDiscoverAttempts,
// discoveryInterval and gossipTimeout.
//
// It imports the eventstore port only (plus the client, gRPC and zerolog):
// never another adapter, domain or anything above them. Tests run the
// whole storetest contract suite through the in-process node in esdbtest,
// and against a real node when HUB_TEST_ESDB is set.
package esdb
