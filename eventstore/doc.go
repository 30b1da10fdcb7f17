// Package eventstore owns the Store port: the event envelope, global
// positions, expected revisions and the errors adapters translate their
// drivers' errors into. Adapters live in subpackages (sqlite, postgres,
// esdb) and the contract suite every adapter runs lives in storetest.
//
// This package must not import domain, projections, realtime or web: it knows
// nothing of alerts or shifts, only of streams of JSON events.
package eventstore
