package realtime

import (
	"context"
	"errors"

	"github.com/senapred-valparaiso/vigia/notice"
)

// ErrClosed is returned by Publish and Subscribe on a broker after Close.
var ErrClosed = errors.New("realtime: broker closed")

// Broker carries change notices from the projector to every hub instance. It
// is the port; adapters live in realtime/memory (in-process) and
// realtime/redis (Redis pub/sub), and every adapter passes the contract suite
// in realtime/brokertest.
//
// Contract:
//
//   - Delivery is at most once and only to live subscriptions: a subscriber
//     receives every message published after its Subscribe returned, until its
//     channel is closed, and nothing published before. Nothing is stored; a
//     late or restarted subscriber resynchronises from the read models (the
//     hub's snapshot), not from the broker.
//   - Order: messages from one publisher whose Publish calls do not overlap
//     (each returns before the next starts) arrive at every subscriber in
//     that order. Concurrent publishers are interleaved in some order, which
//     may differ between subscribers of the Redis adapter.
//   - Publish never blocks on a slow subscriber. Each subscription has a
//     bounded buffer; a subscriber that lets it fill up loses its
//     subscription: its channel is closed (after the messages already
//     buffered) instead of messages being silently skipped. The same happens
//     when an adapter loses its connection (Redis). So a closed channel
//     while the subscriber's ctx is still live means "you may have missed
//     messages": Subscribe again and resynchronise. There is no gap marker.
//   - The channel is also closed when ctx ends (messages still buffered may
//     or may not be received first) and when the broker is closed.
//   - Publish returns an error if the message could not be handed over (the
//     broker is closed, ctx ended, Redis unreachable); a nil error means
//     handed over, not delivered.
//   - All methods are safe for concurrent use. Close is idempotent; after it
//     Publish and Subscribe return an error matching ErrClosed.
type Broker interface {
	// Publish hands m to every current subscription.
	Publish(ctx context.Context, m notice.Message) error
	// Subscribe returns a channel with every message published after
	// Subscribe returns, in publish order per publisher. The channel is
	// closed when ctx ends, when the broker closes, or when the subscription
	// lost messages (see the contract above).
	Subscribe(ctx context.Context) (<-chan notice.Message, error)
	// Close ends every subscription, closing their channels, and releases
	// the broker's resources. It does not close connections it was given.
	Close() error
}
