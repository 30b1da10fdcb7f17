// Package domain is the pure heart of Vigía: the aggregates (Alert, Roster,
// Log, User, Informe), their commands and events, the Decide and Apply
// functions, validation and the region's reference data (the Valparaíso
// provinces and comunas with their CUT codes), plus the event codec (type
// names, schema versions, upcasting).
//
// It performs no I/O, never logs and reads no clock: every command carries
// the time it happened (At) and every generated identifier. It imports only
// the standard library and nothing of ours, so every other package may
// depend on it and it can be tested with plain table tests.
//
// Each aggregate is a pointer type implementing Aggregate: Decide validates
// a command against the current state and returns the events to append (or
// an error: *ValidationError for bad input, an error matching ErrRule for a
// broken invariant); Apply folds one event into the state. Apply never fails:
// an event is a fact that already happened.
package domain
