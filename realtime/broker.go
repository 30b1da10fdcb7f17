package realtime

import (
	"context"
	"encoding/json"
	"errors"
)

// Topics a Message can belong to and a WebSocket client can ask for. A
// message whose Topic is none of these reaches no client.
const (
	TopicAlerts   = "alerts"   // alert declared, updated or cancelled
	TopicShifts   = "shifts"   // duty roster changes
	TopicLog      = "log"      // operators' log (novedades)
	TopicInformes = "informes" // the daily informe
)

// Topics returns every topic, in the order a client without a topics
// parameter is subscribed to them. The slice is fresh: callers may keep it.
func Topics() []string {
	return []string{TopicAlerts, TopicShifts, TopicLog, TopicInformes}
}

// ErrClosed is returned by Publish and Subscribe on a broker after Close.
var ErrClosed = errors.New("realtime: broker closed")

// Message is one change notice. The projector publishes one after each applied
// event commits, so a client that reacts to it and reads back over HTTP sees the
// change.
//
// On the WebSocket only Type, Position and Data travel, as
// {"type":"alert.updated","position":"…","data":{…}}; Topic, Comunas and Region
// are routing metadata the hub filters on (a broker adapter that crosses a
// process boundary carries them in its own wire format).
//
// A Message is shared, not copied, between subscribers of an in-process
// broker: after Publish neither the publisher nor any subscriber may modify
// Comunas or Data.
type Message struct {
	// Type names the change, e.g. "alert.updated", "shift.assigned",
	// "log.added". The hub itself sends "hello", "snapshot" and "pong".
	Type string `json:"type"`
	// Topic is one of the Topic constants.
	Topic string `json:"-"`
	// Position is the opaque resume token of the event the notice is about:
	// the hub only compares positions for equality, never orders them. One
	// event gives one notice, so positions are unique; if several messages
	// share a position, a resume continues after the last of them.
	Position string `json:"position,omitempty"`
	// Comunas are the CUT codes (e.g. "05101") the change concerns. Empty
	// means the change is not territorial and passes every comuna filter.
	Comunas []string `json:"-"`
	// Region means the change concerns the whole region, hence every comuna.
	Region bool `json:"-"`
	// Data is the new read-model row (or whatever the Type defines), as JSON.
	Data json.RawMessage `json:"data,omitempty"`
	// Prev is the position of the message the same publisher sent before
	// this one ("" for its first). It chains a publisher's messages so a
	// hub can tell that one went missing (pub/sub is at-most-once) and
	// resynchronise its clients instead of silently skipping a change.
	Prev string `json:"-"`
}

// Broker carries change notices from the projector to every hub instance. It
// is the port; adapters live in realtime/memory (in-process) and
// realtime/redis (Redis pub/sub), and every adapter passes the contract suite
// in realtime/brokertest.
//
// Contract:
//
//   - Delivery is at most once and only to live subscriptions: a subscriber
//     receives every message published after its Subscribe returned, until its
//     channel is closed, and nothing published before. Nothing is stored; a
//     late or restarted subscriber resynchronises from the read models (the
//     hub's snapshot), not from the broker.
//   - Order: messages from one publisher whose Publish calls do not overlap
//     (each returns before the next starts) arrive at every subscriber in
//     that order. Concurrent publishers are interleaved in some order, which
//     may differ between subscribers of the Redis adapter.
//   - Publish never blocks on a slow subscriber. Each subscription has a
//     bounded buffer; a subscriber that lets it fill up loses its
//     subscription: its channel is closed (after the messages already
//     buffered) instead of messages being silently skipped. The same happens
//     when an adapter loses its connection (Redis). So a closed channel
//     while the subscriber's ctx is still live means "you may have missed
//     messages": Subscribe again and resynchronise. There is no gap marker.
//   - The channel is also closed when ctx ends (messages still buffered may
//     or may not be received first) and when the broker is closed.
//   - Publish returns an error if the message could not be handed over (the
//     broker is closed, ctx ended, Redis unreachable); a nil error means
//     handed over, not delivered.
//   - All methods are safe for concurrent use. Close is idempotent; after it
//     Publish and Subscribe return an error matching ErrClosed.
type Broker interface {
	// Publish hands m to every current subscription.
	Publish(ctx context.Context, m Message) error
	// Subscribe returns a channel with every message published after
	// Subscribe returns, in publish order per publisher. The channel is
	// closed when ctx ends, when the broker closes, or when the subscription
	// lost messages (see the contract above).
	Subscribe(ctx context.Context) (<-chan Message, error)
	// Close ends every subscription, closing their channels, and releases
	// the broker's resources. It does not close connections it was given.
	Close() error
}
