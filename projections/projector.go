package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/notice"
)

// ReadModel is what the projector writes to. Apply must commit the events'
// effects and the new checkpoint together, skip events at or before the
// checkpoint, and return one Change per applied event, in order.
type ReadModel interface {
	Checkpoint(ctx context.Context) (eventstore.Position, error)
	Apply(ctx context.Context, events []eventstore.Event) ([]Change, error)
}

// SharedReadModel is a ReadModel that several hub instances share, such
// as the Postgres one. Exactly one instance's projector applies to it at a
// time (the one holding its lease); the others stand by, serve reads, follow
// the checkpoint the active one commits (for WaitFor), and take over when
// the lease is released or its holder goes away. Apply must stay safe
// without the lease (it serialises on the checkpoint and skips what is
// already applied): the lease decides who works, not what is correct.
type SharedReadModel interface {
	ReadModel
	// Lead blocks until this instance holds the lease, or ctx ends. While it
	// waits it calls standby with the model's checkpoint whenever that may
	// have moved (another instance committed), and at least every few
	// seconds. An error means the model cannot be reached; call it again.
	Lead(ctx context.Context, standby func(eventstore.Position)) (Lease, error)
	// TryLead takes the lease if no instance holds it, without waiting.
	TryLead(ctx context.Context) (lease Lease, ok bool, err error)
}

// Lease is the right to apply to a SharedReadModel.
type Lease interface {
	// Lost is closed when the lease is gone (its connection dropped, so
	// another instance may take over) or released.
	Lost() <-chan struct{}
	// Release gives the lease up.
	Release() error
}

// Notifier receives change notices after they are committed, from one
// goroutine, in position order. realtime.Publisher satisfies it.
type Notifier interface {
	Notify(ctx context.Context, m notice.Message) error
}

// Projector keeps a read model up to date with the event store. Over a
// SharedReadModel it applies only while it holds the model's lease, and
// otherwise stands by, following the checkpoint the active instance
// commits.
type Projector struct {
	store    eventstore.Store
	model    ReadModel
	shared   SharedReadModel // model, when several instances share it
	notifier Notifier
	log      zerolog.Logger
	filter   eventstore.Filter
	batch    int

	mu      sync.Mutex
	applied eventstore.Position
	advance chan struct{} // closed and replaced whenever applied moves
	live    bool
	leading bool
	lease   Lease // taken by CatchUp, handed to Run
}

// EventFilter selects the events of $all that read models project: those
// of the streams the hub writes.
func EventFilter() eventstore.Filter {
	return eventstore.Filter{StreamPrefixes: domain.StreamPrefixes}
}

// ProjectorOption configures a Projector.
type ProjectorOption func(*Projector)

// WithBatchSize sets how many events the projector applies per Apply at
// most (default 512). n <= 0 keeps the default.
func WithBatchSize(n int) ProjectorOption {
	return func(p *Projector) {
		if n > 0 {
			p.batch = n
		}
	}
}

// NewProjector returns a projector of store into model; notifier may be nil.
func NewProjector(store eventstore.Store, model ReadModel, notifier Notifier, log zerolog.Logger, opts ...ProjectorOption) *Projector {
	p := &Projector{
		store: store, model: model, notifier: notifier,
		log:    log.With().Str("component", "projector").Logger(),
		filter: EventFilter(),
		batch:  512, advance: make(chan struct{}),
	}
	p.shared, _ = model.(SharedReadModel)
	for _, o := range opts {
		o(p)
	}
	return p
}

// CatchUp applies every stored event after the read model's checkpoint and
// returns when the model has reached the end of the log as it was when
// reading stopped. Change notices are not sent for catch-up: clients that
// connect afterwards read the current state.
//
// Over a SharedReadModel that another instance is already projecting,
// CatchUp applies nothing: it adopts the shared checkpoint and returns 0,
// and Run stands by. Otherwise it takes the lease and keeps it for Run.
func (p *Projector) CatchUp(ctx context.Context) (int, error) {
	if p.shared != nil {
		p.mu.Lock()
		held := p.lease != nil
		p.mu.Unlock()
		if !held {
			lease, ok, err := p.shared.TryLead(ctx)
			if err != nil {
				return 0, fmt.Errorf("catch up: %w", err)
			}
			if !ok {
				cp, err := p.model.Checkpoint(ctx)
				if err != nil {
					return 0, fmt.Errorf("catch up: %w", err)
				}
				p.setApplied(cp)
				p.log.Info().Str("position", cp.String()).Msg("another instance is projecting; standing by")
				return 0, nil
			}
			p.mu.Lock()
			p.lease = lease
			p.mu.Unlock()
		}
	}
	return p.catchUp(ctx)
}

// decodedApplier is a ReadModel that also takes events decoded already
// (decoded[i] is events[i]'s domain event, or nil to decode it there), so
// that catch-up decodes the next batch while the model folds this one.
type decodedApplier interface {
	ApplyDecoded(ctx context.Context, events []eventstore.Event, decoded []domain.Event) ([]Change, error)
}

// catchUpPage is how many events catch-up reads per query at least: a
// long replay pays a query's fixed cost less often.
const catchUpPage = 2048

// catchUpBatch is one page of the log on its way through catch-up.
type catchUpBatch struct {
	events  []eventstore.Event
	decoded []domain.Event // nil: not decoded
	err     error          // the read failed; events is empty
}

func (p *Projector) catchUp(ctx context.Context) (int, error) {
	from, err := p.model.Checkpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("catch up: %w", err)
	}
	p.setApplied(from)
	// A pipeline over the two cores a small machine has: one goroutine
	// reads the next pages from the store, another decodes them (when the
	// model takes decoded events), and this one applies them in order.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := p.readAhead(ctx, from)
	if da, ok := p.model.(decodedApplier); ok {
		pages = decodeAhead(ctx, pages)
		return p.applyPages(ctx, pages, from, func(b catchUpBatch, lo, hi int) ([]Change, error) {
			return da.ApplyDecoded(ctx, b.events[lo:hi], b.decoded[lo:hi])
		})
	}
	return p.applyPages(ctx, pages, from, func(b catchUpBatch, lo, hi int) ([]Change, error) {
		return p.model.Apply(ctx, b.events[lo:hi])
	})
}

// applyPages applies the pages in batches of at most p.batch events until
// the pages end, and returns how many events it applied.
func (p *Projector) applyPages(ctx context.Context, pages <-chan catchUpBatch, from eventstore.Position, apply func(b catchUpBatch, lo, hi int) ([]Change, error)) (int, error) {
	total := 0
	for b := range pages {
		if b.err != nil {
			return total, fmt.Errorf("catch up from %s: %w", from, b.err)
		}
		for lo := 0; lo < len(b.events); lo += p.batch {
			hi := min(lo+p.batch, len(b.events))
			if _, err := apply(b, lo, hi); err != nil {
				return total, fmt.Errorf("catch up: %w", err)
			}
			total += hi - lo
			from = b.events[hi-1].Position
			p.setApplied(from)
		}
	}
	if err := ctx.Err(); err != nil {
		return total, fmt.Errorf("catch up: %w", err)
	}
	return total, nil
}

// readAhead reads the log after from, page by page, until a page comes
// back empty, a read fails (its error is the last page) or ctx ends.
func (p *Projector) readAhead(ctx context.Context, from eventstore.Position) <-chan catchUpBatch {
	out := make(chan catchUpBatch, 1)
	page := max(p.batch, catchUpPage)
	go func() {
		defer close(out)
		for {
			evs, err := p.store.ReadAll(ctx, from, p.filter, page)
			if err == nil && len(evs) == 0 {
				return
			}
			select {
			case out <- catchUpBatch{events: evs, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			from = evs[len(evs)-1].Position
		}
	}()
	return out
}

// decodeAhead decodes the pages of in. An event that does not decode is
// left nil, for the model to decode again and report in its place, after
// applying the events before it.
func decodeAhead(ctx context.Context, in <-chan catchUpBatch) <-chan catchUpBatch {
	out := make(chan catchUpBatch, 1)
	go func() {
		defer close(out)
		for b := range in {
			if b.err == nil {
				b.decoded = make([]domain.Event, len(b.events))
				for i, ev := range b.events {
					b.decoded[i], _ = Decode(ev)
				}
			}
			select {
			case out <- b:
			case <-ctx.Done():
				for range in { // let the reader end
				}
				return
			}
		}
	}()
	return out
}

// Run follows the log live until ctx ends, resubscribing with backoff when
// the subscription fails. It never returns an error other than ctx's.
//
// Over a SharedReadModel it first waits for the lease (standing by: Live
// and WaitFor follow the shared checkpoint meanwhile), follows the log
// while it holds the lease, and goes back to standing by when it loses it.
func (p *Projector) Run(ctx context.Context) error {
	if p.shared == nil {
		p.setLeading(true)
		defer p.setLeading(false)
		return p.runLeading(ctx)
	}
	backoff := minBackoff
	for {
		p.mu.Lock()
		lease := p.lease
		p.lease = nil
		p.mu.Unlock()
		if lease == nil {
			var err error
			lease, err = p.shared.Lead(ctx, p.standby)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.setLive(false)
				p.log.Error().Err(err).Dur("retry_in", backoff).Msg("read model unreachable; retrying")
				if !sleep(ctx, backoff) {
					return ctx.Err()
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
		}
		backoff = minBackoff
		p.log.Info().Msg("projector active: holding the read model's lease")
		leadCtx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Lost():
			case <-leadCtx.Done():
			}
			cancel()
		}()
		p.setLeading(true)
		_ = p.runLeading(leadCtx)
		p.setLeading(false)
		p.setLive(false)
		cancel()
		if err := lease.Release(); err != nil {
			p.log.Debug().Err(err).Msg("release lease")
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.log.Warn().Msg("read model lease lost; standing by")
	}
}

// standby is called by SharedReadModel.Lead with the shared checkpoint.
func (p *Projector) standby(pos eventstore.Position) {
	p.setApplied(pos)
	p.setLive(true)
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runLeading follows the log until ctx ends, with backoff between
// attempts.
func (p *Projector) runLeading(ctx context.Context) error {
	backoff := minBackoff
	for {
		err := p.follow(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.setLive(false)
		p.log.Error().Err(err).Dur("retry_in", backoff).Msg("projection interrupted")
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (p *Projector) follow(ctx context.Context) error {
	from, err := p.model.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	p.setApplied(from)
	sub, err := p.store.Subscribe(ctx, from, p.filter)
	if err != nil {
		return fmt.Errorf("subscribe from %s: %w", from, err)
	}
	defer sub.Close()
	p.setLive(true)
	p.log.Info().Str("position", from.String()).Msg("projection live")
	events := sub.Events()
	buf := make([]eventstore.Event, 0, p.batch)
	for {
		ev, open := <-events
		if !open {
			if err := sub.Err(); err != nil {
				return err
			}
			return errors.New("subscription ended")
		}
		buf = append(buf[:0], ev)
		// Take whatever else is already waiting, to apply it in one commit.
	drain:
		for len(buf) < p.batch {
			select {
			case ev, open := <-events:
				if !open {
					break drain
				}
				buf = append(buf, ev)
			default:
				break drain
			}
		}
		changes, err := p.model.Apply(ctx, buf)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		p.setApplied(buf[len(buf)-1].Position)
		if p.notifier != nil {
			for _, c := range changes {
				if err := p.notify(ctx, c); err != nil {
					// The read model is the truth; clients heal gaps from it.
					p.log.Warn().Err(err).Str("position", c.Position.String()).Msg("change notice not published")
				}
			}
		}
	}
}

// notify hands c's notice, if it has one, to the notifier.
func (p *Projector) notify(ctx context.Context, c Change) error {
	m, ok, err := c.Notice()
	if !ok || err != nil {
		return err
	}
	return p.notifier.Notify(ctx, m)
}

func (p *Projector) setApplied(pos eventstore.Position) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos.Compare(p.applied) > 0 {
		p.applied = pos
		close(p.advance)
		p.advance = make(chan struct{})
	}
}

func (p *Projector) setLive(v bool) {
	p.mu.Lock()
	p.live = v
	p.mu.Unlock()
}

func (p *Projector) setLeading(v bool) {
	p.mu.Lock()
	p.leading = v
	p.mu.Unlock()
}

// Live reports whether the projector is following the log: as the active
// instance, its subscription runs; standing by, it reaches the shared read
// model and follows its checkpoint.
func (p *Projector) Live() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// Leading reports whether this projector is the one applying events: always
// while Run runs over an unshared read model; over a SharedReadModel, while
// it holds the lease.
func (p *Projector) Leading() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leading
}

// Position returns the position of the last applied event (standing by,
// the shared checkpoint as last seen).
func (p *Projector) Position() eventstore.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor blocks until the read model has applied pos, or ctx ends. It lets
// a handler answer a write only once a read of the same data would see it.
// It works standing by too: the shared checkpoint moves as the active
// instance commits.
func (p *Projector) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		p.mu.Lock()
		done, ch := p.applied.Compare(pos) >= 0, p.advance
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Close releases a lease CatchUp took and Run never used. Run releases its
// own lease when it returns.
func (p *Projector) Close() error {
	p.mu.Lock()
	lease := p.lease
	p.lease = nil
	p.mu.Unlock()
	if lease != nil {
		return lease.Release()
	}
	return nil
}
