package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
)

var _ realtime.Broker = (*Broker)(nil)

// DefaultBuffer is the per-subscription buffer when Options.Buffer is zero:
// large enough to ride out a burst of notices from a projector catching up,
// small enough (pointers plus a notice.Message header each) to bound memory.
const DefaultBuffer = 1024

// Options configures a Broker. The zero value is ready to use.
type Options struct {
	// Buffer is how many messages one subscription may hold unread before it
	// is dropped (default DefaultBuffer).
	Buffer int
}

// Broker is an in-process realtime.Broker. Publish delivers to every
// subscription under one mutex with non-blocking sends, so messages from
// non-overlapping Publish calls arrive in order at every subscriber, and a
// slow subscriber never blocks a publisher.
type Broker struct {
	buffer  int
	dropped atomic.Uint64

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
}

type subscription struct {
	ch   chan notice.Message
	stop func() bool // stops the ctx watch
}

// New returns an in-process broker.
func New(opts Options) *Broker {
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	return &Broker{buffer: opts.Buffer, subs: make(map[*subscription]struct{})}
}

// Publish hands m to every subscription without waiting. A subscription whose
// buffer is full is ended (its channel closed) instead.
func (b *Broker) Publish(ctx context.Context, m notice.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish %s: %w", m.Position, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("publish %s: %w", m.Position, realtime.ErrClosed)
	}
	for s := range b.subs {
		select {
		case s.ch <- m:
		default:
			b.dropped.Add(1)
			b.remove(s)
		}
	}
	return nil
}

// Subscribe returns a channel with every message published after it returns.
// The channel is closed when ctx ends, when the broker closes, or when the
// subscription overflows its buffer.
func (b *Broker) Subscribe(ctx context.Context) (<-chan notice.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("subscribe: %w", realtime.ErrClosed)
	}
	s := &subscription{ch: make(chan notice.Message, b.buffer)}
	b.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.remove(s)
	})
	return s.ch, nil
}

// remove ends s if it is still subscribed; b.mu must be held.
func (b *Broker) remove(s *subscription) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.stop()
	close(s.ch)
}

// Close ends every subscription. It is idempotent.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for s := range b.subs {
		b.remove(s)
	}
	return nil
}

// Dropped reports how many subscriptions were ended for overflowing their
// buffer since the broker was created.
func (b *Broker) Dropped() uint64 { return b.dropped.Load() }
