// Package redis is the Redis pub/sub adapter of the realtime.Broker port, for
// the scaled-out deployment: the active projector publishes each change
// notice once, and every hub instance subscribes.
//
// It owns one channel, Options.Prefix + "realtime", and the wire format on it
// (JSON carrying a notice.Message's routing fields too: topic, comunas, region). It
// imports the realtime port, go-redis and zerolog; it must not import domain,
// eventstore, projections, web or another broker adapter.
//
// Delivery is Redis pub/sub's: at most once, to connected subscribers only.
// Every lost message is made visible rather than silent: when a
// subscription's buffer overflows, its connection fails, a health-check ping
// goes unanswered, or go-redis resubscribes after a reconnect, the
// subscription ends and its channel is closed, which a realtime.Broker
// consumer takes as "you may have missed messages".
package redis
