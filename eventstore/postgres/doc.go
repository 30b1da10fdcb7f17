// Package postgres is the event store for scaled-out deployments: the log
// in a Postgres schema (pgx v5, pgxpool), shared by any number of hub
// instances.
//
// It owns the tables es_events, es_head and es_schema_migrations of the
// schema its connections resolve first (search_path), their migrations
// (embedded migrations/*.sql, applied by Open or Migrate in one
// transaction under an advisory lock), and the subscriptions.
//
// # The sequence-gap problem, and the choice made
//
// With a plain sequence, positions are handed out when rows are inserted,
// but transactions commit in any order: position 11 can become visible
// while 10 is still in flight, and a reader that has moved past 11 never
// sees 10. Two known cures:
//
//   - Serialised allocation (chosen): each append increments the one row
//     of es_head (UPDATE … RETURNING) as its first write, which holds that
//     row's lock until COMMIT. Positions are therefore allocated one
//     transaction at a time and become visible in position order: if a
//     snapshot sees position n it sees every position below n, a reader
//     never waits and never skips, a rolled-back append gives its
//     positions back (no holes), and a plain ReadAll is already correct.
//     The price is that transactions, from every instance, commit one at
//     a time: the lock is held for the remaining round trips and the
//     commit fsync. So each Store runs one writer that commits every
//     append waiting at that moment in one transaction (group commit): it
//     takes the es_head lock, checks each append's expected revision in
//     turn against the stream as the earlier appends of the batch left
//     it, inserts the accepted rows with one statement and commits once,
//     answering each caller with its own result or error. Concurrent
//     writers share one commit and its WAL flush; correctness across
//     instances still rests on the es_head lock; see the benchmarks. That is
//     orders of magnitude above what an operations centre writes (tens of
//     edits a minute, bursts of an informe's hundred events), and the
//     expected-revision check then needs no retry loop of its own. It also
//     keeps RecordedAt in order: an append stamps its rows no earlier than
//     the newest row's, so RecordedAt is non-decreasing in position order
//     whatever the instances' clocks.
//   - A transaction-id watermark (not chosen): positions from a sequence,
//     each row stamped with pg_current_xact_id(), and readers only take
//     rows whose transaction is older than pg_snapshot_xmin of their
//     snapshot, ordered by (xid, sequence). Appends to different streams
//     commit in parallel, but the total order is no longer the position
//     order (a Position would carry both numbers), every reader's latency
//     is that of the oldest open write transaction in the whole cluster —
//     read-model projections, migrations or a forgotten psql session
//     included — and the correctness argument is much harder to check.
//
// # Subscriptions
//
// A subscription reads $all in batches (catch-up), then waits to be woken
// and re-reads from the last position it scanned, so the seam has no gap
// and no duplicate. It is woken by this Store's own appends at once, by
// appends of other instances through LISTEN/NOTIFY (pg_notify in the
// append transaction, delivered only on commit, on a channel named after
// the schema), and by a poll (WithPollInterval, default 1s) so that a lost
// notification only delays an event. One connection per Store listens; it
// reconnects with backoff when dropped, and wakes every subscription after
// reconnecting. A subscription whose reads fail because the database is
// unreachable retries with backoff instead of ending. A slow subscriber
// only delays itself. The loop itself is eventstore.Pager, shared with the
// sqlite store.
//
// Errors that mean the database cannot be reached now wrap
// eventstore.ErrUnavailable. Acknowledged appends are durable: each batch
// sets synchronous_commit=on for its own transaction.
//
// The pool's sessions run with enable_sort=off and
// max_parallel_workers_per_gather=0 (unless the DSN sets them): every query
// walks an index in its order, and a planner misestimate (no statistics
// after a bulk load, a generic plan) otherwise turned a page of $all into a
// scan and a sort, 50-100 times slower (plan_test.go pins it).
//
// It imports the eventstore port only: never another adapter, domain or
// anything above them.
package postgres
