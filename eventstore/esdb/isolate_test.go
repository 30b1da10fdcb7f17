package esdb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// isolated confines one contract subtest to the streams under a unique
// prefix of a store it shares with others (a real node keeps every test's
// events): stream names get the prefix on the way in and lose it on the
// way out, and $all reads and subscriptions see only the prefix. It is
// how the suite gets "a fresh, empty store" from a shared node, like the
// per-test schema of internal/testkit/testsvc.
type isolated struct {
	s      eventstore.Store
	prefix string
}

func isolate(t *testing.T, s eventstore.Store) eventstore.Store {
	t.Helper()
	return &isolated{s: s, prefix: "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] + "_"}
}

func (i *isolated) strip(evs []eventstore.Event) []eventstore.Event {
	for k := range evs {
		evs[k].Stream = strings.TrimPrefix(evs[k].Stream, i.prefix)
	}
	return evs
}

func (i *isolated) scope(f eventstore.Filter) eventstore.Filter {
	if len(f.StreamPrefixes) == 0 {
		return eventstore.Filter{StreamPrefixes: []string{i.prefix}}
	}
	out := make([]string, len(f.StreamPrefixes))
	for k, p := range f.StreamPrefixes {
		out[k] = i.prefix + p
	}
	return eventstore.Filter{StreamPrefixes: out}
}

func (i *isolated) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	r, err := i.s.Append(ctx, i.prefix+stream, expected, events...)
	var ve *eventstore.VersionError
	if errors.As(err, &ve) {
		unprefixed := *ve
		unprefixed.Stream = stream
		return r, &unprefixed
	}
	return r, err
}

func (i *isolated) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	evs, err := i.s.ReadStream(ctx, i.prefix+stream, from, dir, limit)
	return i.strip(evs), err
}

func (i *isolated) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter, limit int) ([]eventstore.Event, error) {
	evs, err := i.s.ReadAll(ctx, from, i.scope(filter), limit)
	return i.strip(evs), err
}

func (i *isolated) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	inner, err := i.s.Subscribe(ctx, from, i.scope(filter))
	if err != nil {
		return nil, err
	}
	sub := &isolatedSub{inner: inner, out: make(chan eventstore.Event), stop: make(chan struct{}), done: make(chan struct{})}
	go sub.run(i.prefix)
	return sub, nil
}

func (i *isolated) Ping(ctx context.Context) error { return i.s.Ping(ctx) }

// Close leaves the shared store open; the test that made it closes it.
func (i *isolated) Close() error { return nil }

// isolatedSub strips the prefix from a subscription's events.
type isolatedSub struct {
	inner eventstore.Subscription
	out   chan eventstore.Event
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func (s *isolatedSub) run(prefix string) {
	defer close(s.done)
	defer close(s.out)
	for e := range s.inner.Events() {
		e.Stream = strings.TrimPrefix(e.Stream, prefix)
		select {
		case s.out <- e:
		case <-s.stop:
			return
		}
	}
}

func (s *isolatedSub) Events() <-chan eventstore.Event { return s.out }
func (s *isolatedSub) Err() error                      { return s.inner.Err() }

func (s *isolatedSub) Close() error {
	s.once.Do(func() { close(s.stop) })
	err := s.inner.Close()
	<-s.done
	return err
}
