// Package projections turns the event log into read models and change
// notices.
//
// StreamState.Apply is the one per-event step of every read model: it folds
// one recorded event into its stream's state (the domain aggregate plus who
// changed it last and the stream's version) and returns the change notice,
// whose Data is the new read-model row. State keeps a StreamState per
// stream in memory, with the indexes the queries need: it is the fold of
// the log behind the in-memory read model, and, replayed up to a moment,
// any past day's informe (time travel). The Postgres read model stores the
// same StreamStates as JSON and folds with the same code: there is no
// second implementation.
//
// The Projector subscribes to the store's $all from the read model's
// checkpoint, applies each batch of events and its checkpoint atomically,
// and only then hands the Changes' notices to its notifier, so a client
// that reacts to a push and reads back always sees the change. Read models live in
// memory (rebuilt from the log at start) or, when scaled out, in Postgres:
// a SharedReadModel, which one hub instance's projector applies to at a
// time while the others stand by, following its checkpoint.
//
// Imports domain, eventstore and notice only. It publishes through its own
// Notifier interface, which takes a notice.Message (Change.Notice): the
// realtime.Publisher beside the broker satisfies it.
package projections
