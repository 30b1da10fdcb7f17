// Package testgen generates random domain data for property tests, so
// every random workload draws comunas and scopes the same way.
package testgen

import (
	"fmt"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// Comuna picks a comuna code of the region; pick(n) returns 0..n-1.
func Comuna(pick func(int) int) string {
	ps := domain.Provincias()
	p := ps[pick(len(ps))]
	return p.Comunas[pick(len(p.Comunas))].Code
}

// Scope picks a scope: the whole region, one provincia, or two comunas.
func Scope(pick func(int) int) domain.Scope {
	switch pick(3) {
	case 0:
		return domain.Scope{Region: true}
	case 1:
		ps := domain.Provincias()
		return domain.Scope{Provincias: []string{ps[pick(len(ps))].Code}}
	}
	return domain.Scope{Comunas: []string{Comuna(pick), Comuna(pick)}}
}

// EventLog builds recorded events by the given actors, as a store would
// hand them out: positions 1, 2, …, versions per stream from 0, request IDs
// "req-<n>", and, when At is set, recorded one minute apart after it.
type EventLog struct {
	T      testing.TB
	At     time.Time
	Events []eventstore.Event
	vers   map[string]uint64
}

// Add records e on stream, by the operator named who.
func (l *EventLog) Add(stream, who string, e domain.Event) {
	l.T.Helper()
	typ, schema, data, err := domain.Encode(e)
	if err != nil {
		l.T.Fatal(err)
	}
	if l.vers == nil {
		l.vers = map[string]uint64{}
	}
	n := uint64(len(l.Events) + 1)
	ev := eventstore.Event{
		Stream: stream, Type: typ, Schema: schema, Data: data, Version: l.vers[stream], Position: eventstore.Seq(n),
		Actor: eventstore.Actor{ID: "id-" + who, Username: who, Role: "operator"}, CorrelationID: fmt.Sprintf("req-%d", n),
	}
	if !l.At.IsZero() {
		ev.RecordedAt = l.At.Add(time.Duration(n) * time.Minute)
	}
	l.Events = append(l.Events, ev)
	l.vers[stream]++
}
