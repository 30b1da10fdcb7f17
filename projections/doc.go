// Package projections turns the event log into read models and change
// notices.
//
// State is the fold of the log: Apply takes one recorded event and updates
// the alerts in force, the day rosters, the day logs, the informe headers
// and the users. The same State builds today's read model and, replayed up
// to a moment, any past day's informe (time travel): there is no second
// implementation.
//
// The Projector subscribes to the store's $all from the read model's
// checkpoint, applies each event and its checkpoint atomically, and only
// then hands a Change to its notifier, so a client that reacts to a push and
// reads back always sees the change. Read models live in memory (rebuilt
// from the log at start) or, when scaled out, in Postgres.
//
// Imports domain and eventstore only; it publishes through its own Notifier
// interface, which cmd/hub adapts to the realtime broker.
package projections
