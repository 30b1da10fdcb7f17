// Package eventstore owns the Store port: the event envelope, global
// positions, expected revisions and the errors adapters translate their
// drivers' errors into. Adapters live in subpackages (sqlite, postgres,
// esdb) and the contract suite every adapter runs lives in storetest.
//
// It also holds what the adapters' subscriptions share (subscription.go):
// Subscriptions runs each subscription's goroutine and channel and ends
// them all when the store closes, and Pager is the catch-up-then-live loop
// of the stores that read $all in pages (sqlite, postgres).
//
// This package must not import domain, projections, realtime or web: it knows
// nothing of alerts or shifts, only of streams of JSON events.
package eventstore
