// Package sqlite is the embedded default event store: one SQLite file
// (modernc.org/sqlite, pure Go, no cgo) that the hub opens under its data
// directory, so `hub serve` needs no service at all.
//
// It owns the file's events schema and its migrations (PRAGMA
// user_version), the write path and the catch-up subscriptions:
//
//   - Durability: WAL mode with synchronous=FULL, so the WAL is fsynced on
//     every commit and an acknowledged Append survives kill -9.
//   - Group commit: Append queues its events to the one writer goroutine
//     (one connection), which takes every append waiting at that moment and
//     writes them in one transaction, one fsync, checking each expected
//     revision in turn (against the stream as the appends before it in the
//     batch left it), then answers each caller with its own result or
//     error. Nobody is answered before the commit. A version mismatch or a
//     duplicate writes nothing and leaves the others alone; an append whose
//     statements fail gets that error and the batch is committed without
//     it. While one batch is being fsynced the next one gathers, so the
//     fsync is paid once per batch rather than once per append.
//   - Ordering: appends are serialised in-process (the writer) and by
//     SQLite's write lock across processes (BEGIN IMMEDIATE). A global
//     position is the row's INTEGER PRIMARY KEY (AUTOINCREMENT, so never
//     reused), allocated inside the write transaction, which makes commit
//     order equal position order: a reader can never see position n+1
//     before n, and $all has no late commits.
//   - RecordedAt is stamped by the writer, once per batch, and is never
//     earlier than the newest event's in the file (whichever process wrote
//     it), so it is non-decreasing in position order even when a clock
//     steps back.
//   - Expected revisions are checked against the stream's newest version in
//     the same write transaction; UNIQUE(stream, version) backs it up. That
//     lookup is one seek of the (stream, version) index (about 40µs through
//     database/sql on a 100k-event file, against about 1ms for the fsync
//     of a commit), so there is no separate streams table to keep in step.
//     The writer's statements are prepared once, at Open.
//   - Subscriptions read $all from a pool of read-only connections (WAL
//     readers never block the writer), then wait on an in-process broadcast
//     that every commit closes and replaces: no polling while idle, and each
//     wake-up re-reads from the last position scanned, so there is no gap
//     and no duplicate at the catch-up/live seam. A slow subscriber only
//     delays itself. Events appended to the file by another process are
//     picked up at the next in-process append, or every WithPollInterval.
//
// Reads use statements prepared once per reader connection (the two
// stream reads and the head; one per $all filter shape, up to 32), and the
// prefix filter is written so SQLite walks positions, never the stream
// index plus a sort (plan_test.go pins it).
//
// It imports the eventstore port only: never another adapter, domain or
// anything above them.
package sqlite
