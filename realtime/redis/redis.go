package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
)

var _ realtime.Broker = (*Broker)(nil)

// Defaults for the zero fields of Options.
const (
	DefaultPrefix           = "vigia:"
	DefaultBuffer           = 1024
	DefaultHealthCheck      = 15 * time.Second
	DefaultSubscribeTimeout = 5 * time.Second
)

// Options configures a Broker. The zero value is usable.
type Options struct {
	// Prefix namespaces the channel (Prefix + "realtime"), so deployments, or
	// tests, sharing a Redis do not hear each other. Default DefaultPrefix.
	Prefix string
	// Buffer is how many messages one subscription may hold unread before it
	// is ended. Default DefaultBuffer.
	Buffer int
	// HealthCheck is how long a subscription may hear nothing before it
	// pings Redis; an unanswered ping within as long again ends it.
	HealthCheck time.Duration
	// SubscribeTimeout bounds Subscribe's wait for Redis to confirm.
	SubscribeTimeout time.Duration
}

// Broker is a realtime.Broker on Redis pub/sub. Each Subscribe holds one
// Redis connection.
type Broker struct {
	client  goredis.UniversalClient
	channel string
	log     zerolog.Logger
	opts    Options
	dropped atomic.Uint64

	mu     sync.Mutex
	closed bool
	subs   map[*goredis.PubSub]struct{}
	wg     sync.WaitGroup // one per subscription being set up or running
}

// New returns a broker publishing and subscribing through client, which the
// caller owns: Close does not close it.
func New(client goredis.UniversalClient, log zerolog.Logger, opts Options) *Broker {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.HealthCheck <= 0 {
		opts.HealthCheck = DefaultHealthCheck
	}
	if opts.SubscribeTimeout <= 0 {
		opts.SubscribeTimeout = DefaultSubscribeTimeout
	}
	channel := opts.Prefix + "realtime"
	return &Broker{
		client:  client,
		channel: channel,
		log:     log.With().Str("component", "realtime.redis").Str("channel", channel).Logger(),
		opts:    opts,
		subs:    make(map[*goredis.PubSub]struct{}),
	}
}

// wire is a notice.Message as it travels through Redis: with its routing fields.
type wire struct {
	Type     string          `json:"type"`
	Topic    string          `json:"topic"`
	Position string          `json:"position,omitempty"`
	Comunas  []string        `json:"comunas,omitempty"`
	Region   bool            `json:"region,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Prev     string          `json:"prev,omitempty"`
}

// Publish sends m with one PUBLISH; it returns once Redis has accepted it.
func (b *Broker) Publish(ctx context.Context, m notice.Message) error {
	if b.isClosed() {
		return fmt.Errorf("publish %s: %w", m.Position, realtime.ErrClosed)
	}
	payload, err := json.Marshal(wire{
		Type: m.Type, Topic: m.Topic, Position: m.Position,
		Comunas: m.Comunas, Region: m.Region, Data: m.Data, Prev: m.Prev,
	})
	if err != nil {
		return fmt.Errorf("publish %s: encode: %w", m.Position, err)
	}
	if err := b.client.Publish(ctx, b.channel, payload).Err(); err != nil {
		return fmt.Errorf("publish %s: %w", m.Position, err)
	}
	return nil
}

// Subscribe subscribes on a connection of its own and returns once Redis has
// confirmed, so every message published after it returns is received.
func (b *Broker) Subscribe(ctx context.Context) (<-chan notice.Message, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("subscribe: %w", realtime.ErrClosed)
	}
	b.wg.Add(1)
	b.mu.Unlock()

	ps := b.client.Subscribe(ctx, b.channel)
	v, err := ps.ReceiveTimeout(ctx, b.opts.SubscribeTimeout)
	if err == nil {
		if _, ok := v.(*goredis.Subscription); !ok {
			err = fmt.Errorf("unexpected %T before the subscription confirmation", v)
		}
	}
	if err != nil {
		_ = ps.Close()
		b.wg.Done()
		return nil, fmt.Errorf("subscribe %s: %w", b.channel, err)
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = ps.Close()
		b.wg.Done()
		return nil, fmt.Errorf("subscribe: %w", realtime.ErrClosed)
	}
	b.subs[ps] = struct{}{}
	b.mu.Unlock()

	ch := make(chan notice.Message, b.opts.Buffer)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	go b.receive(ctx, ps, ch, stop)
	return ch, nil
}

// receive relays one subscription until it ends, then closes ch. It never
// blocks on ch: a full buffer ends the subscription.
func (b *Broker) receive(ctx context.Context, ps *goredis.PubSub, ch chan<- notice.Message, stop func() bool) {
	defer b.wg.Done()
	defer close(ch)
	defer func() {
		stop()
		_ = ps.Close()
		b.mu.Lock()
		delete(b.subs, ps)
		b.mu.Unlock()
	}()
	pinged := false
	for {
		v, err := ps.ReceiveTimeout(ctx, b.opts.HealthCheck)
		if err != nil {
			switch {
			case ctx.Err() != nil || b.isClosed():
			case isTimeout(err) && !pinged:
				if err := ps.Ping(ctx); err == nil {
					pinged = true
					continue
				}
				b.log.Error().Err(err).Msg("subscription health check failed; ending subscription")
			default:
				b.log.Error().Err(err).Msg("subscription lost; ending subscription")
			}
			return
		}
		pinged = false
		switch v := v.(type) {
		case *goredis.Message:
			m, err := decode(v.Payload)
			if err != nil {
				b.log.Warn().Err(err).Msg("skipped malformed message")
				continue
			}
			select {
			case ch <- m:
			default:
				b.dropped.Add(1)
				b.log.Warn().Int("buffer", cap(ch)).Msg("subscriber overflowed its buffer; ending subscription")
				return
			}
		case *goredis.Subscription:
			// go-redis resubscribed after reconnecting: messages published
			// in between are lost, so end the subscription to say so.
			b.log.Error().Str("kind", v.Kind).Msg("subscription renewed after a reconnect; ending it to signal the gap")
			return
		case *goredis.Pong:
		}
	}
}

func decode(payload string) (notice.Message, error) {
	var w wire
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return notice.Message{}, fmt.Errorf("decode: %w", err)
	}
	if w.Type == "" {
		return notice.Message{}, errors.New("decode: message without type")
	}
	return notice.Message{
		Type: w.Type, Topic: w.Topic, Position: w.Position,
		Comunas: w.Comunas, Region: w.Region, Data: w.Data, Prev: w.Prev,
	}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close ends every subscription, closing their channels, and waits for their
// goroutines. It does not close the Redis client. Idempotent.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*goredis.PubSub, 0, len(b.subs))
	for ps := range b.subs {
		subs = append(subs, ps)
	}
	b.mu.Unlock()
	for _, ps := range subs {
		_ = ps.Close()
	}
	b.wg.Wait()
	return nil
}

// Dropped reports how many subscriptions were ended for overflowing their
// buffer since the broker was created.
func (b *Broker) Dropped() uint64 { return b.dropped.Load() }
