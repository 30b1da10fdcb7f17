// Package storetest is the contract suite of the eventstore.Store port.
// Every adapter's tests call Run with a constructor of fresh, isolated
// stores, so the embedded store, the Postgres store, EventStoreDB and any
// fake cannot drift apart: what the port's doc comments promise (expected
// revisions, idempotent retries, atomic multi-event appends, ordered $all,
// catch-up subscriptions with no gap and no duplicate) is checked here once.
// Bench gives every adapter the same go test benchmarks.
//
// It imports eventstore and the standard library (plus uuid) only; never an
// adapter, and never domain: the events it writes are opaque JSON.
package storetest
