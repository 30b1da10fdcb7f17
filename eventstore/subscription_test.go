package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

var errGone = errors.New("store gone")

// pages is a fake paged log: Next hands out the queued pages (or errors)
// one per read, then empty pages.
type pages struct {
	mu     sync.Mutex
	queue  []page
	notify chan struct{}
}

type page struct {
	evs  []eventstore.Event
	full bool
	err  error
}

func (p *pages) next(context.Context) ([]eventstore.Event, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return nil, false, nil
	}
	pg := p.queue[0]
	p.queue = p.queue[1:]
	return pg.evs, pg.full, pg.err
}

func (p *pages) changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notify
}

// commit queues a page and wakes the pager, as a store's commit does.
func (p *pages) commit(pg page) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue = append(p.queue, pg)
	close(p.notify)
	p.notify = make(chan struct{})
}

func events(from, n int) []eventstore.Event {
	evs := make([]eventstore.Event, n)
	for i := range evs {
		evs[i] = eventstore.Event{Stream: "log-1", Version: uint64(from + i), Position: eventstore.Seq(uint64(from + i + 1))}
	}
	return evs
}

func receive(t *testing.T, sub eventstore.Subscription, from, n int) {
	t.Helper()
	for i := range n {
		e, ok := <-sub.Events()
		if !ok {
			t.Fatalf("subscription ended at event %d: %v", from+i, sub.Err())
		}
		if e.Version != uint64(from+i) {
			t.Fatalf("received version %d, want %d", e.Version, from+i)
		}
	}
}

// The pager reads full pages back to back, waits for a commit after a
// short one, rides out passing errors and stops at the first other one.
func TestPagerPoll(t *testing.T) {
	p := &pages{notify: make(chan struct{})}
	p.queue = []page{{evs: events(0, 2), full: true}, {evs: events(2, 1)}}
	var subs eventstore.Subscriptions
	defer subs.Close(errGone)
	passing := errors.New("unreachable for now")
	pager := eventstore.Pager{
		Next: p.next, Changed: p.changed,
		Passing: func(err error) bool { return errors.Is(err, passing) },
	}
	sub, err := subs.Start(t.Context(), 1, pager.Poll)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	receive(t, sub, 0, 3)
	p.commit(page{err: passing})
	p.commit(page{evs: events(3, 2)})
	receive(t, sub, 3, 2)
	broken := errors.New("broken")
	p.commit(page{err: broken})
	for range sub.Events() {
		t.Error("event after a failed read")
	}
	if err := sub.Err(); !errors.Is(err, broken) {
		t.Errorf("err %v, want the read's", err)
	}
}

// Closing the set ends every subscription with its cause, waits for them,
// and refuses new ones; closing one ends it with context.Canceled.
func TestSubscriptionsClose(t *testing.T) {
	var subs eventstore.Subscriptions
	block := func(ctx context.Context, out chan<- eventstore.Event) error {
		<-ctx.Done()
		return context.Cause(ctx)
	}
	one, err := subs.Start(t.Context(), 0, block)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	two, err := subs.Start(t.Context(), 0, block)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := one.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := one.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("closed subscription's err %v, want context.Canceled", err)
	}
	subs.Close(errGone)
	if _, ok := <-two.Events(); ok || !errors.Is(two.Err(), errGone) {
		t.Errorf("after the store closed: open %v, err %v; want closed with %v", ok, two.Err(), errGone)
	}
	if _, err := subs.Start(t.Context(), 0, block); !errors.Is(err, errGone) {
		t.Errorf("start after close: %v, want %v", err, errGone)
	}
}

// A subscription whose setup fails is not left running (Close does not
// wait for it); one that is set up gets the subscription's context.
func TestSubscriptionsOpen(t *testing.T) {
	var subs eventstore.Subscriptions
	refused := errors.New("node unreachable")
	_, err := subs.Open(t.Context(), 0, func(context.Context) (eventstore.Follow, error) { return nil, refused })
	if !errors.Is(err, refused) {
		t.Fatalf("open: %v, want %v", err, refused)
	}
	var setup context.Context
	sub, err := subs.Open(t.Context(), 0, func(ctx context.Context) (eventstore.Follow, error) {
		setup = ctx
		return func(ctx context.Context, out chan<- eventstore.Event) error {
			<-ctx.Done()
			return context.Cause(ctx)
		}, nil
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if setup.Err() == nil {
		t.Error("the setup's context outlived the subscription")
	}
	subs.Close(errGone)
}
