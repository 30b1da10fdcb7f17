package domain

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Event is a domain event: a fact about one aggregate.
type Event interface {
	// EventType is the stable name stored with the event, e.g. "alert.declared".
	EventType() string
}

// Command is a request to change one aggregate.
type Command interface {
	commandName() string
}

// Aggregate is the state of one stream. Decide turns a command into events
// without changing the state; Apply folds an event in.
type Aggregate interface {
	Decide(c Command) ([]Event, error)
	Apply(e Event)
}

// CurrentSchema is the schema version Encode writes for every event type.
// When an event's shape changes, bump its entry and add an upcaster that
// turns older payloads into the current one.
var CurrentSchema = map[string]int{}

type eventFactory func() Event

var registry = map[string]eventFactory{}

// upcasters[type][schema] rewrites a payload of that schema to schema+1.
var upcasters = map[string]map[int]func(json.RawMessage) (json.RawMessage, error){}

func register(f eventFactory) {
	t := f().EventType()
	if _, dup := registry[t]; dup {
		panic("domain: event type registered twice: " + t)
	}
	registry[t] = f
	CurrentSchema[t] = 1
}

func init() {
	for _, f := range []eventFactory{
		func() Event { return &AlertDeclared{} },
		func() Event { return &AlertLevelChanged{} },
		func() Event { return &AlertScopeChanged{} },
		func() Event { return &AlertDetailsUpdated{} },
		func() Event { return &AlertCancelled{} },
		func() Event { return &ShiftAssigned{} },
		func() Event { return &ShiftUnassigned{} },
		func() Event { return &LogEntryAdded{} },
		func() Event { return &LogEntryCorrected{} },
		func() Event { return &UserCreated{} },
		func() Event { return &UserRoleChanged{} },
		func() Event { return &UserPasswordChanged{} },
		func() Event { return &UserDisabled{} },
		func() Event { return &InformeReceived{} },
		func() Event { return &InformeItemDecided{} },
	} {
		register(f)
	}
}

// ErrUnknownEvent is returned by Decode for a type this build does not know.
var ErrUnknownEvent = errors.New("unknown event type")

// Encode returns the stored form of e: its type, schema and JSON payload.
func Encode(e Event) (eventType string, schema int, data []byte, err error) {
	eventType = e.EventType()
	schema, ok := CurrentSchema[eventType]
	if !ok {
		return "", 0, nil, fmt.Errorf("encode %s: %w", eventType, ErrUnknownEvent)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return eventType, schema, data, nil
}

// Decode turns a stored event back into its domain type, upcasting older
// schemas first. The returned Event is a pointer to the event struct.
func Decode(eventType string, schema int, data []byte) (Event, error) {
	f, ok := registry[eventType]
	if !ok {
		return nil, fmt.Errorf("decode %s: %w", eventType, ErrUnknownEvent)
	}
	raw := json.RawMessage(data)
	current := CurrentSchema[eventType]
	if schema < 1 {
		schema = 1
	}
	for ; schema < current; schema++ {
		up, ok := upcasters[eventType][schema]
		if !ok {
			return nil, fmt.Errorf("decode %s: no upcaster from schema %d", eventType, schema)
		}
		var err error
		if raw, err = up(raw); err != nil {
			return nil, fmt.Errorf("decode %s: upcast schema %d: %w", eventType, schema, err)
		}
	}
	if schema > current {
		return nil, fmt.Errorf("decode %s: schema %d is newer than this build (%d)", eventType, schema, current)
	}
	e := f()
	if err := json.Unmarshal(raw, e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// EventTypes returns every registered event type.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}
