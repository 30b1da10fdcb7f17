// Package memory is the in-process adapter of the realtime.Broker port: the
// embedded deployment mode's fan-out from the projector to the hub, and the
// fake every other test uses.
//
// It owns nothing but its subscriber list. It imports only the realtime port
// and the standard library; it must not import domain, eventstore,
// projections, web or another broker adapter.
//
// Slow subscribers: each subscription has a bounded buffer (Options.Buffer).
// Publish never waits for a subscriber; one whose buffer is full when a
// message arrives is unsubscribed and its channel closed after the messages it
// already has, which tells it that it missed messages (see realtime.Broker).
package memory
