// Package esdbtest is an in-process, in-memory EventStoreDB node for tests:
// a gRPC server on 127.0.0.1 that speaks the part of EventStoreDB's public
// gRPC API (the v1 "event_store.client.*" services, through the generated
// packages that github.com/EventStore/EventStore-Client-Go/v4 exports) that
// the official Go client uses for the hub's event store. The real client
// talks to it over real gRPC, so the adapter in eventstore/esdb is tested
// end to end without a server installed.
//
// Its answers follow EventStoreDB's own source (EventStore/EventStore at
// 3f1acb7, v25.0.0-rc.4+22, March 2025: Streams.Append.cs, Streams.Read.cs,
// IndexWriter.CheckCommit, StorageWriterService, the Enumerator classes,
// EventFilter, RpcExceptions, ServerFeatures), read for this purpose.
//
// # What it models
//
//   - ServerFeatures.GetSupportedMethods: version "25.0.0" and the two
//     Streams methods it implements, so the client's handshake succeeds as
//     against a real node (the client also accepts Unimplemented).
//   - Streams.Append (client streaming: options first, then proposed
//     messages). Appends are serialised (one lock, like the node's single
//     writer) and the expected revision and idempotency decision is
//     IndexWriter.CheckCommit, transcribed: any/stream_exists go through the
//     committed-event-ID cache (the first ID not found in this stream means
//     "new write"; a later one not found means corrupted idempotency);
//     no_stream and exact revisions below the current one compare the IDs at
//     the revisions the append would have taken (idempotent, wrong expected
//     version, or corrupted idempotency). Corrupted idempotency is answered
//     as a wrong expected version, as the node does. An idempotent retry
//     answers the revision and position of the stored event matching the
//     retry's last ID, as the node does. stream_exists on a stream without
//     events is refused. Required proposed-message metadata ("type",
//     "content-type") and the 1 MiB maximum append size are enforced with the
//     node's status codes and "exception" trailers.
//   - The wrong-expected-version payload exactly as Streams.Append.cs builds
//     it: the current revision (or current_no_stream), the expected option,
//     and the deprecated *_20_6_0 twins.
//   - The node's positions: every event is "self-committed" (commit position
//     == prepare position == its log position), positions are byte offsets
//     of an imaginary transaction file (strictly increasing, with gaps, never
//     zero), and an append answers the position of its last event.
//   - Streams.Read with a count: stream reads forwards and backwards from
//     start, end or a revision (a backwards read past the end starts at the
//     last event); a stream without events answers stream_not_found and
//     nothing else; a count of 0 reads nothing. $all reads forwards (from a
//     position inclusive, as the node's ReadAllEventsForward) and backwards
//     (events strictly before the position), unfiltered or filtered.
//   - Streams.Read with subscription options on $all: the first message is
//     the confirmation; then catch-up, caught_up, and live events, from the
//     start, the end, or strictly after a position (as AllSubscription
//     skips events at or before its checkpoint). A filter (stream name or
//     event type, prefixes or regex, regex winning when both are given)
//     applies the node's default $all rules too (no $epoch-information, no
//     $all persistent subscription checkpoints or parked messages); a
//     filtered subscription sends a checkpoint every
//     checkpointIntervalMultiplier × max search window events considered
//     (window default 32, as ReadBatchSize; the node counts per page read,
//     this server per event), and one when it catches up.
//   - Event records carry the metadata map every client needs: "type",
//     "content-type" and "created" (100 ns ticks since the Unix epoch, in
//     decimal; the Go client calls log.Fatalf without it), IDs in the form
//     the request's uuid_option asks for.
//   - A fresh node is not empty: $all starts with a few events in system
//     ($-prefixed) streams, which readers of $all must skip.
//   - Stop and Restart on the same port, keeping the data: connections are
//     closed, so clients see Unavailable, as when a node restarts. A restart
//     also empties the committed-event-ID cache, because the node keeps it
//     in memory only: after a restart, a retry with any or stream_exists
//     appends its events again, while no_stream and exact retries are still
//     recognised from the stored events. Test hooks write system events
//     (AppendSystemEvent), read the whole log (Events), count the running
//     subscriptions (Subscriptions) and list the users whose credentials
//     calls carried (Users).
//   - TLS, with WithTLS (a node's default); without it the server is an
//     --insecure node. Basic credentials are read and recorded, never
//     checked.
//
// # What it does not model
//
// Durability (everything is in memory), clusters, gossip, leader election
// and not-leader redirects, authentication and ACLs (any credentials are
// accepted, and reading $all is open), client certificates, stream metadata ($max-count,
// $max-age, $tb truncation, soft delete), Delete, Tombstone and deleted
// streams, BatchAppend, stream subscriptions, persistent subscriptions,
// projections, operations, users, the compatibility control option
// (first/last stream position messages), link events and resolve_links,
// the node's bounded (8 MiB) ID cache (this one is unbounded until a
// restart), the maximum event size, invalid-position checks ($all reads
// accept any position and read from there), fell-behind and deadlines,
// server-side timeouts and the node's internal paging (a read or
// subscription is served from a snapshot of memory in batches). Filtered
// $all reads ignore the search window.
//
// It imports the client module's generated packages, grpc and the standard
// library; nothing of ours.
package esdbtest
