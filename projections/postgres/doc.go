// Package postgres is the read model of scaled-out hubs: alerts, shifts,
// the log, informe headers, users and an audit index in Postgres tables
// (pgx v5), shared by every hub instance.
//
// It owns the rm_ tables of the schema its connections resolve first
// (search_path) and rm_schema_migrations; their migrations (embedded
// migrations/*.sql, applied by Open or Migrate in one transaction under an
// advisory lock); the lease that makes one instance's projector the active
// one; and rebuilds.
//
// # One fold
//
// Nothing here re-implements the domain. Every stream's fold, a
// projections.StreamState, is kept as JSON in rm_streams. Apply locks the
// checkpoint row, skips events at or before it, loads the states of the
// streams the batch touches (an instance keeps them cached while the
// checkpoint is the one it wrote itself), folds each event in with
// StreamState.Apply — the code the in-memory read model runs — and writes
// back, in the same transaction, the states, the view rows the changes
// carry, one audit row per event, and the new checkpoint. A batch of events
// is one transaction and a handful of round trips, whatever its size.
//
// # One active projector
//
// Each instance's projector asks for the lease: a session-level advisory
// lock, keyed by the schema, on a connection of its own. The holder
// applies; the others stand by on the same kind of connection, LISTENing
// for the NOTIFY every apply sends on commit (and polling the checkpoint
// every second), so their WaitFor and Position follow the shared
// checkpoint, and they try the lock again each time. When the holder's
// process dies, its connection closes and the server drops the lock at
// once; a holder whose host vanishes is dropped by TCP keepalives (set on
// both ends) within about fifteen seconds. The lock decides who works, not
// what is correct: Apply serialises on the checkpoint row (SELECT … FOR
// UPDATE) and skips what is applied, so even a deposed holder finishing a
// batch can neither apply an event twice nor skip one.
//
// # Rebuilds
//
// Rebuild replays the log into fresh tables (rm_x_rebuild, created LIKE
// rm_x so later migrations carry over) while the hub keeps serving from the
// live ones, then, in one transaction that locks the live tables, catches
// the fresh ones up to exactly the live checkpoint, drops the live tables
// and renames the fresh ones (and their indexes) into place. Readers and
// the active projector wait for that transaction only.
//
// # The audit index
//
// rm_audit holds one row per event: the envelope facts /api/audit filters
// on, the event itself (password hashes blanked) and the key of the row it
// touched (projections.AuditRowKey). A record's Spanish summary and
// field-level diff are worked out when a query returns it, by folding the
// events of its stream and row key up to it with projections.AuditReplay,
// the in-memory model's own step: both models give the same records, and
// applying or rebuilding costs the audit no fold and no JSON. A rebuild
// writes everything with COPY in its binary format, straight from the
// folded rows (copy.go), and log entries, most of what it writes, with an
// encoder of their own that writes what encoding/json would (logjson.go).
//
// # Failures
//
// Errors that mean the database cannot be reached wrap
// eventstore.ErrUnavailable, so that the web layer answers 503. Nothing
// here ends the process: the projector retries with backoff.
//
// It imports the projections port, domain and eventstore only; never
// another adapter (not even eventstore/postgres), realtime, web, command,
// auth or cmd.
package postgres
