// Package esdb is the event store on EventStoreDB (KurrentDB), the
// production store of a scaled-out hub: the eventstore.Store port on the
// official Go client, github.com/EventStore/EventStore-Client-Go/v4.
//
// How it maps the port onto the client (connection strings, expected
// revisions, positions, subscriptions, reconnection, what an operator must
// configure on the node) is in docs/eventstoredb.md; keep it in step with
// this package.
package esdb
