// Package realtime carries change notices from the projector to every hub
// instance, and from there to browsers and wall displays.
//
// It owns the Broker port (adapters in realtime/memory and realtime/redis,
// contract suite in realtime/brokertest), through which the projector tells
// every hub instance what changed, and the Publisher, which puts the
// projector's notices on a Broker (it satisfies projections.Notifier). The
// WebSocket transport, which fans those notices out to clients, is
// realtime/ws.
//
// The notices themselves, and their topics, are package notice's, which the
// projector shares. It must not import domain, eventstore, projections, web,
// command or auth, nor any transport (Fiber, WebSocket): positions are
// opaque strings here, compared only for equality.
package realtime
