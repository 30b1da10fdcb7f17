package eventstore

import (
	"context"
	"sync"
	"time"
)

// This file holds what every adapter's Subscribe shares: running a
// subscription (its goroutine, its channel, why it ended, ending it with
// the store), and, for stores that read $all in pages (sqlite, postgres),
// the loop that follows the log. Adapters use it; callers of a Store never
// need it.

// Subscriptions runs an adapter's subscriptions and ends them all when the
// store closes. The zero value is ready to use; it must not be copied.
type Subscriptions struct {
	mu     sync.Mutex
	closed error // the cause Close was given; nil while open
	subs   map[*subscription]struct{}
	wg     sync.WaitGroup
}

// Follow is a subscription's delivery loop: it sends events on out until
// ctx ends (then it returns context.Cause(ctx)) or it cannot go on, and
// returns why it stopped, which becomes the subscription's Err.
type Follow func(ctx context.Context, out chan<- Event) error

// Start runs follow on a goroutine of its own as a new subscription whose
// channel buffers up to buffer events. The subscription's context derives
// from ctx; closing the subscription cancels it with context.Canceled, and
// Close cancels it with its cause. After Close, Start returns Close's
// cause.
func (s *Subscriptions) Start(ctx context.Context, buffer int, follow Follow) (Subscription, error) {
	return s.Open(ctx, buffer, func(context.Context) (Follow, error) { return follow, nil })
}

// Open is Start for a subscription that is set up before it is returned
// (esdb makes its first call to the node, so that an unreachable node is
// Subscribe's error): open runs on the caller's goroutine, with the
// subscription's context, and returns the delivery loop. An error from
// open is returned, and no subscription is left running.
func (s *Subscriptions) Open(ctx context.Context, buffer int, open func(ctx context.Context) (Follow, error)) (Subscription, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	sub := &subscription{
		events: make(chan Event, buffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed != nil {
		err := s.closed
		s.mu.Unlock()
		cancel(err)
		return nil, err
	}
	if s.subs == nil {
		s.subs = map[*subscription]struct{}{}
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	ended := func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		cancel(nil) // release the context
		s.wg.Done()
	}

	follow, err := open(ctx)
	if err != nil {
		ended()
		return nil, err
	}
	go func() {
		defer ended()
		sub.end(follow(ctx, sub.events))
	}()
	return sub, nil
}

// Close ends every subscription, with cause as its Err (stores use an
// error wrapping ErrUnavailable), makes later Starts fail with cause, and
// waits for the subscriptions' goroutines.
func (s *Subscriptions) Close(cause error) {
	s.mu.Lock()
	if s.closed == nil {
		s.closed = cause
	}
	for sub := range s.subs {
		sub.cancel(cause)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// subscription is a running subscription.
type subscription struct {
	events chan Event
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu  sync.Mutex
	err error
}

// end records why the subscription ended and closes its channel.
func (sub *subscription) end(err error) {
	sub.mu.Lock()
	sub.err = err
	sub.mu.Unlock()
	close(sub.events)
	close(sub.done)
}

// Events is closed when the subscription ends.
func (sub *subscription) Events() <-chan Event { return sub.events }

// Err says why the subscription ended: nil while it runs.
func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Close ends the subscription and waits for its goroutine. Err is then
// context.Canceled (unless it had already ended for another reason).
func (sub *subscription) Close() error {
	sub.cancel(context.Canceled)
	<-sub.done
	return nil
}

// Send delivers e on out, unless ctx ends first (then it returns
// context.Cause(ctx)).
func Send(ctx context.Context, out chan<- Event, e Event) error {
	select {
	case out <- e:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Pager is how a store that reads $all in pages is followed (see Poll).
type Pager struct {
	// Next reads the page after the last one it read (it keeps its own
	// cursor); full reports a full page, so that there may be more to read
	// at once.
	Next func(ctx context.Context) (evs []Event, full bool, err error)
	// Changed returns the channel the store's next commit closes.
	Changed func() <-chan struct{}
	// Every, when positive, also reads every Every while idle (commits
	// that Changed does not see: another process's, a lost notification).
	Every time.Duration
	// Passing, when set, reports a read error that passes (the database
	// unreachable): the read is tried again after a backoff, from
	// MinBackoff doubling up to MaxBackoff, instead of ending the
	// subscription.
	Passing                func(error) bool
	MinBackoff, MaxBackoff time.Duration
}

// Poll follows the log through p: it reads page after page and sends
// each event on out, then waits for a commit (or Every) and reads again,
// until ctx ends or a read fails for good. Each wait starts from the
// channel taken before the read that came up short, so a commit during
// that read is never missed, and each read resumes where the last one
// stopped, so there is no gap and no duplicate between catching up and
// following live. It returns why it stopped.
func (p Pager) Poll(ctx context.Context, out chan<- Event) error {
	var tick <-chan time.Time
	if p.Every > 0 {
		t := time.NewTicker(p.Every)
		defer t.Stop()
		tick = t.C
	}
	backoff := p.MinBackoff
	for {
		wake := p.Changed() // before the read: a commit during it is not missed
		evs, full, err := p.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if p.Passing == nil || !p.Passing(err) {
				return err
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return context.Cause(ctx)
			}
			backoff = min(2*backoff, p.MaxBackoff)
			continue
		}
		backoff = p.MinBackoff
		for _, e := range evs {
			if err := Send(ctx, out, e); err != nil {
				return err
			}
		}
		if full {
			continue // still catching up
		}
		select {
		case <-wake:
		case <-tick:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
