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
)

// ReadModel is what the projector writes to. Apply must commit the events'
// effects and the new checkpoint together, skip events at or before the
// checkpoint, and return one Change per applied event, in order.
type ReadModel interface {
	Checkpoint(ctx context.Context) (eventstore.Position, error)
	Apply(ctx context.Context, events []eventstore.Event) ([]Change, error)
}

// Notifier receives change notices after they are committed. A broker
// adapter in cmd/hub satisfies it.
type Notifier interface {
	Notify(ctx context.Context, c Change) error
}

// Projector keeps a read model up to date with the event store.
type Projector struct {
	store    eventstore.Store
	model    ReadModel
	notifier Notifier
	log      zerolog.Logger
	filter   eventstore.Filter
	batch    int

	mu      sync.Mutex
	applied eventstore.Position
	advance chan struct{} // closed and replaced whenever applied moves
	live    bool
}

// NewProjector returns a projector of store into model; notifier may be nil.
func NewProjector(store eventstore.Store, model ReadModel, notifier Notifier, log zerolog.Logger) *Projector {
	return &Projector{
		store: store, model: model, notifier: notifier,
		log:    log.With().Str("component", "projector").Logger(),
		filter: eventstore.Filter{StreamPrefixes: domain.StreamPrefixes},
		batch:  512, advance: make(chan struct{}),
	}
}

// CatchUp applies every stored event after the read model's checkpoint and
// returns when the model has reached the end of the log as it was when
// reading stopped. Change notices are not sent for catch-up: clients that
// connect afterwards read the current state.
func (p *Projector) CatchUp(ctx context.Context) (int, error) {
	from, err := p.model.Checkpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("catch up: %w", err)
	}
	total := 0
	for {
		evs, err := p.store.ReadAll(ctx, from, p.filter, p.batch)
		if err != nil {
			return total, fmt.Errorf("catch up from %s: %w", from, err)
		}
		if len(evs) == 0 {
			return total, nil
		}
		if _, err := p.model.Apply(ctx, evs); err != nil {
			return total, fmt.Errorf("catch up: %w", err)
		}
		total += len(evs)
		from = evs[len(evs)-1].Position
		p.setApplied(from)
	}
}

// Run follows the log live until ctx ends, resubscribing with backoff when
// the subscription fails. It never returns an error other than ctx's.
func (p *Projector) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := p.follow(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.setLive(false)
		p.log.Error().Err(err).Dur("retry_in", backoff).Msg("projection interrupted")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (p *Projector) follow(ctx context.Context) error {
	from, err := p.model.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
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
				if err := p.notifier.Notify(ctx, c); err != nil {
					// The read model is the truth; clients heal gaps from it.
					p.log.Warn().Err(err).Str("position", c.Position.String()).Msg("change notice not published")
				}
			}
		}
	}
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

// Live reports whether the projector is following the log.
func (p *Projector) Live() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// Position returns the position of the last applied event.
func (p *Projector) Position() eventstore.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor blocks until the read model has applied pos, or ctx ends. It lets
// a handler answer a write only once a read of the same data would see it.
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
