package realtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
)

// Publisher puts the projector's change notices on a Broker. It satisfies
// projections.Notifier (whose notices are notice.Messages, so no adapter
// is needed between the two).
//
// It chains each notice to the previous one (Prev), so every hub instance
// can tell when pub/sub lost one, and it publishes from a goroutine of its
// own through a bounded queue, so a slow or unreachable broker (Redis down)
// never holds up the projector, and so never the writes waiting for it.
// A notice that cannot be queued or published is dropped; the next one's
// Prev exposes the gap and the hubs resynchronise their clients.
type Publisher struct {
	broker  Broker
	log     zerolog.Logger
	queue   chan notice.Message
	done    chan struct{}
	last    string
	timeout time.Duration
	close   sync.Once
}

// NewPublisher returns a publisher to b, already running; Close stops it.
func NewPublisher(b Broker, log zerolog.Logger) *Publisher {
	p := &Publisher{
		broker: b, log: log.With().Str("component", "notifier").Logger(),
		queue: make(chan notice.Message, 4096), done: make(chan struct{}), timeout: 2 * time.Second,
	}
	go p.run()
	return p
}

// Notify queues m for publishing, with Prev set to the notice queued before
// it. Call it from one goroutine, in position order, as the projector does.
// It never blocks: a full queue is an error and the notice is dropped.
func (p *Publisher) Notify(_ context.Context, m notice.Message) error {
	m.Prev = p.last
	p.last = m.Position
	select {
	case p.queue <- m:
		return nil
	default:
		return fmt.Errorf("notify %s: publish queue full", m.Position)
	}
}

// Announce queues a message that is not a change of the log — a background
// job's progress, say — for the clients of its topic. It has no position
// and takes no part in the Prev chain, so a lost announcement is never
// mistaken for a lost change (clients re-read such state over HTTP). Safe
// from any goroutine; never blocks; do not call it after Close.
func (p *Publisher) Announce(m notice.Message) error {
	m.Position, m.Prev = "", ""
	select {
	case p.queue <- m:
		return nil
	default:
		return fmt.Errorf("announce %s: publish queue full", m.Type)
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	for m := range p.queue {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		if err := p.broker.Publish(ctx, m); err != nil {
			p.log.Warn().Err(err).Str("position", m.Position).Msg("change notice not published")
		}
		cancel()
	}
}

// Close publishes what is queued (each bounded by the timeout) and stops.
// Call it after the projector has stopped. Idempotent.
func (p *Publisher) Close() {
	p.close.Do(func() { close(p.queue) })
	<-p.done
}
