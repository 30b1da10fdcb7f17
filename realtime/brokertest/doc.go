// Package brokertest is the contract suite of the realtime.Broker port. Every
// adapter's tests call Run, so the in-memory fake and the Redis adapter cannot
// drift apart.
//
// It imports only the realtime port and the standard library (testing among
// them); it must not import an adapter, domain, eventstore, projections or
// web.
package brokertest
