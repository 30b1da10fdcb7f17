package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/realtime"
)

// brokerNotifier adapts the realtime broker to the projector's Notifier:
// the projector knows nothing of realtime, and realtime nothing of the
// domain, so the translation happens here, in the composition root.
//
// It chains each notice to the previous one (Prev), so every hub instance
// can tell when pub/sub lost one, and it publishes from a goroutine of its
// own through a bounded queue, so a slow or unreachable broker (Redis down)
// never holds up the projector, and so never the writes waiting for it.
// A notice that cannot be queued or published is dropped; the next one's
// Prev exposes the gap and the hubs resynchronise their clients.
type brokerNotifier struct {
	broker  realtime.Broker
	log     zerolog.Logger
	queue   chan notice.Message
	done    chan struct{}
	last    string
	timeout time.Duration
	close   sync.Once
}

func newBrokerNotifier(b realtime.Broker, log zerolog.Logger) *brokerNotifier {
	n := &brokerNotifier{
		broker: b, log: log.With().Str("component", "notifier").Logger(),
		queue: make(chan notice.Message, 4096), done: make(chan struct{}), timeout: 2 * time.Second,
	}
	go n.run()
	return n
}

// Notify implements projections.Notifier. The projector calls it from one
// goroutine, in position order.
func (n *brokerNotifier) Notify(_ context.Context, c projections.Change) error {
	if c.Topic == projections.TopicUsers {
		return nil // user changes are not pushed to browsers
	}
	data, err := json.Marshal(c.Data)
	if err != nil {
		return fmt.Errorf("notify %s: %w", c.Type, err)
	}
	region, comunas := noticeScope(c)
	m := notice.Message{
		Type: c.Type, Topic: c.Topic, Position: c.Position.String(),
		Comunas: comunas, Region: region, Data: data, Prev: n.last,
	}
	n.last = m.Position
	select {
	case n.queue <- m:
		return nil
	default:
		return fmt.Errorf("notify %s: publish queue full", m.Position)
	}
}

// noticeScope is whom a change's notice must reach: the territory the row
// concerns now and, when the change moved it, the one it concerned before,
// so a display filtered by the old comunas hears that the row left them
// (the row itself shows the new ones, and the display drops it). Region, or
// no comunas at all, reaches every display.
func noticeScope(c projections.Change) (region bool, comunas []string) {
	switch {
	case c.Region || c.PrevRegion:
		return true, c.Comunas
	case len(c.PrevComunas) == 0 || len(c.Comunas) == 0:
		return false, c.Comunas // not moved, or it now concerns every display
	}
	comunas = make([]string, 0, len(c.Comunas)+len(c.PrevComunas))
	comunas = append(append(comunas, c.Comunas...), c.PrevComunas...)
	slices.Sort(comunas)
	return false, slices.Compact(comunas)
}

func (n *brokerNotifier) run() {
	defer close(n.done)
	for m := range n.queue {
		ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
		if err := n.broker.Publish(ctx, m); err != nil {
			n.log.Warn().Err(err).Str("position", m.Position).Msg("change notice not published")
		}
		cancel()
	}
}

// Close publishes what is queued (each bounded by the timeout) and stops.
// Call it after the projector has stopped.
func (n *brokerNotifier) Close() {
	n.close.Do(func() { close(n.queue) })
	<-n.done
}
