// Package command is the one path every change takes: load an aggregate's
// stream, fold it, check the caller's precondition (the version the operator
// saw), Decide, and Append with the expected revision of the state that was
// decided on. Web handlers, ingestion and the CLI all call it; nothing
// else appends to the event store.
//
// Two words, one integer type (uint64): a stream has a revision (of its
// last event, from 0); an item a client edits (an alert, a roster slot, a
// log entry, a user) has a version, the ETag the client read and sends
// back in If-Match. IfVersion and its siblings compare that version with
// the loaded state and refuse a stale edit with a *StaleError carrying the
// current state, which the web layer renders as a 412.
//
// A concurrent append between the load and the append makes the store
// refuse the write (wrong expected version); Execute then reloads and tries
// again, so the precondition is always checked against the state the events
// are appended after. That is what makes a lost update impossible.
//
// Load keeps the folded state of recently used streams (a bounded cache,
// WithCache): the next Load of a stream copies it and reads and folds only
// the events appended since, whoever appended them, so a command costs a
// read of its stream's tail rather than of its whole history. A cached
// state is never shared: each Load gets a copy of its own.
//
// It imports domain and eventstore only.
package command
