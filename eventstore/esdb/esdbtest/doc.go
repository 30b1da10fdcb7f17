// Package esdbtest is an in-process gRPC server that speaks the part of
// EventStoreDB's public protocol the esdb adapter uses, so the adapter's
// contract suite runs in CI without a real node.
//
// What it models, what it does not, and how to run the suite against a real
// node instead are in docs/esdbtest.md.
package esdbtest
