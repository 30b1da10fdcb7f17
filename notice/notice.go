// Package notice is the change notice: the one message the projector
// publishes after each committed event and the realtime broker carries to
// every hub instance, and the topics it belongs to.
//
// It is a package of its own, importing nothing of ours, because both ends
// need the same type and neither may import the other (STYLE.md): the
// projector's Notifier is declared in projections, which must not import
// realtime, and realtime must import neither projections nor the domain.
// So projections.Notifier takes a Message and realtime.Broker carries one,
// and realtime.Publisher satisfies the Notifier without an adapter in
// cmd/hub.
package notice

import "encoding/json"

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

// Message is one change notice. The projector makes one after each applied
// event commits, so a client that reacts to it and reads back over HTTP sees
// the change.
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
	// realtime.Publisher sets it.
	Prev string `json:"-"`
}
