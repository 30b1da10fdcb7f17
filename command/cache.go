package command

import (
	"container/list"
	"maps"
	"slices"
	"sync"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// DefaultCache is how many folded aggregates a Handler keeps by default.
const DefaultCache = 4096

// cache keeps the latest folded state of recently used streams, so that
// Load reads and decodes only the events appended since (the tail), not
// the whole stream. It is bounded (least recently used first out) and
// safe for concurrent use.
//
// An aggregate is mutable (Apply changes it), so the cache never shares
// one: put stores a private copy and get returns a fresh copy, made by
// clone. Streams whose aggregate clone does not know are not cached.
type cache struct {
	mu      sync.Mutex
	max     int
	order   list.List // of *cached, most recently used first
	streams map[string]*list.Element
}

// cached is one stream's folded state, as of its revision.
type cached struct {
	stream   string
	state    domain.Aggregate // private: never handed out
	revision uint64
	last     eventstore.Event
}

func newCache(max int) *cache {
	if max <= 0 {
		return nil
	}
	return &cache{max: max, streams: make(map[string]*list.Element, min(max, 1024))}
}

// get returns a copy of the cached state of stream.
func (c *cache) get(stream string) (Loaded, bool) {
	if c == nil {
		return Loaded{}, false
	}
	c.mu.Lock()
	el, ok := c.streams[stream]
	if !ok {
		c.mu.Unlock()
		return Loaded{}, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*cached)
	c.mu.Unlock()
	// e is immutable once stored: copying it outside the lock is safe.
	state, _ := clone(e.state)
	last := e.last
	return Loaded{Stream: stream, State: state, Revision: e.revision, Last: &last}, true
}

// put stores a copy of l, unless the cache already holds a later revision
// of the stream (a concurrent Load or Execute got further). A stream with
// no events is not stored.
func (c *cache) put(l Loaded) {
	if c == nil || !l.Exists() {
		return
	}
	state, ok := clone(l.State)
	if !ok {
		return
	}
	e := &cached{stream: l.Stream, state: state, revision: l.Revision, last: *l.Last}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.streams[l.Stream]; ok {
		if el.Value.(*cached).revision < e.revision {
			el.Value = e
		}
		c.order.MoveToFront(el)
		return
	}
	c.streams[l.Stream] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.streams, old.Value.(*cached).stream)
	}
}

// drop forgets stream.
func (c *cache) drop(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.streams[stream]; ok {
		c.order.Remove(el)
		delete(c.streams, stream)
	}
}

// clone returns a copy of a that shares nothing Apply changes with it; ok
// is false for an aggregate type it does not know (which is then not
// cached). It relies on how each aggregate's Apply works, which
// TestCloneIsIndependent checks for every event type:
//   - Alert, User: Apply assigns fields (slices are replaced, never
//     changed in place): a copy of the struct.
//   - Informe: the same, but Apply appends to Received and writes into
//     Decisions: copies of those.
//   - Roster: Apply writes into the Slots and SlotVersions maps (a Shift is
//     replaced, never changed): copies of the maps.
//   - Log: Apply appends to Entries (an entry is replaced on correction,
//     never changed) and keeps an unexported index: a copy of the slice in
//     a new Log, which builds its own index on its next Apply, as a Log
//     decoded from JSON does.
func clone(a domain.Aggregate) (domain.Aggregate, bool) {
	switch a := a.(type) {
	case *domain.Alert:
		c := *a
		return &c, true
	case *domain.User:
		c := *a
		return &c, true
	case *domain.Informe:
		c := *a
		c.Received = slices.Clone(a.Received) // Apply appends to it
		c.Decisions = maps.Clone(a.Decisions) // and writes into this
		return &c, true
	case *domain.Roster:
		return &domain.Roster{Date: a.Date, Slots: maps.Clone(a.Slots), SlotVersions: maps.Clone(a.SlotVersions)}, true
	case *domain.Log:
		return &domain.Log{Date: a.Date, Entries: slices.Clone(a.Entries)}, true
	}
	return nil, false
}
