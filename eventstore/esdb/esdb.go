package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	es "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// errClosed is returned by a closed store and ends its subscriptions.
var errClosed = fmt.Errorf("store closed: %w", eventstore.ErrUnavailable)

// errLost is returned to a call whose connection another call found lost.
var errLost = fmt.Errorf("connection to the node lost: %w", eventstore.ErrUnavailable)

// Store is the event store on one EventStoreDB node or cluster. It is safe
// for concurrent use. Open it with Open and Close it when done.
type Store struct {
	cfg  es.Configuration // as parsed; each client gets a copy
	addr string           // where the node is, without credentials
	log  zerolog.Logger

	mu     sync.Mutex
	cur    *conn // the client calls use; nil until the first call
	lost   bool  // a connection was lost and none succeeded since
	closed bool
	done   chan struct{} // closed by Close

	subs eventstore.Subscriptions

	closeOnce sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger (default: none). The store logs lost and
// regained connections and resubscriptions; the client's own log lines go
// to Debug with their level in client_level.
func WithLogger(l zerolog.Logger) Option {
	return func(s *Store) { s.log = l.With().Str("component", "eventstore.esdb").Logger() }
}

// Open parses connString (see the package doc) and connects to the node;
// it fails, with an error wrapping eventstore.ErrUnavailable, when the
// node cannot be reached within one discovery. There is no clock option:
// the node stamps RecordedAt.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := es.ParseConnectionString(connString)
	if err != nil {
		// url.Parse errors quote the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("open event store: connection string: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open event store: connection string: %w", err)
	}
	s := &Store{
		cfg:  *cfg,
		addr: address(cfg),
		log:  zerolog.Nop(),
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.cfg.Logger = s.clientLog
	c, err := s.connect(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", s.addr, err), s.Close())
	}
	c.release()
	return s, nil
}

// address names the node or the cluster's seeds, never the credentials.
func address(cfg *es.Configuration) string {
	if cfg.Address != "" {
		return cfg.Address
	}
	seeds := make([]string, len(cfg.GossipSeeds))
	for i, e := range cfg.GossipSeeds {
		seeds[i] = e.String()
	}
	return strings.Join(seeds, ",")
}

// clientLog receives the client's log lines.
func (s *Store) clientLog(level es.LogLevel, format string, args ...any) {
	s.log.Debug().Str("client_level", level).Msgf(format, args...)
}

// Ping reads the newest event of $all: the node answers, and lets this
// user read $all.
func (s *Store) Ping(ctx context.Context) error {
	_, err := call(ctx, s, func(ctx context.Context, c *es.Client) (struct{}, error) {
		rs, err := c.ReadAll(ctx, es.ReadAllOptions{Direction: es.Backwards, From: es.End{}}, 1)
		if err != nil {
			return struct{}{}, err
		}
		defer rs.Close()
		if _, err := rs.Recv(); err != nil && !errors.Is(err, io.EOF) {
			return struct{}{}, err
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("ping %s: %w", s.addr, err)
	}
	return nil
}

// Close ends the subscriptions and closes the connection once the calls in
// flight have returned. Later calls return nil; calls after Close fail
// with an error wrapping eventstore.ErrUnavailable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		c := s.cur
		s.mu.Unlock()
		s.subs.Close(errClosed)
		if c != nil {
			c.retire()
		}
	})
	return nil
}

// conn is one client and its connection. A conn is used until a call on
// it finds the node unreachable; it is then retired, and its client is
// closed when the last call using it returns (see the package doc for
// why neither sooner nor never).
type conn struct {
	client *es.Client
	ready  chan struct{} // closed when the first connection attempt ends
	err    error         // why that attempt failed; set before ready closes
	lost   chan struct{} // closed when the conn is retired

	mu      sync.Mutex
	users   int // the connection attempt, calls and subscriptions using client
	retired bool
	closed  bool
}

// acquire registers a user of c; it fails once c is retired.
func (c *conn) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retired {
		return false
	}
	c.users++
	return true
}

// release ends a use of c, closing the client if c is retired and this
// was the last use.
func (c *conn) release() {
	c.mu.Lock()
	c.users--
	shut := c.retired && c.users == 0 && !c.closed
	if shut {
		c.closed = true
	}
	c.mu.Unlock()
	if shut {
		_ = c.client.Close()
	}
}

// retire stops new uses of c, releases the callers waiting on it and closes
// the client if nobody uses it.
func (c *conn) retire() {
	c.mu.Lock()
	first := !c.retired
	c.retired = true
	shut := c.users == 0 && !c.closed
	if shut {
		c.closed = true
	}
	c.mu.Unlock()
	if first {
		close(c.lost)
	}
	if shut {
		_ = c.client.Close()
	}
}

func (c *conn) isRetired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.retired
}

// maxConnects bounds how many fresh connections one call tries when each
// is lost as soon as it is made.
const maxConnects = 3

// connect returns a connected conn, acquired for the caller, connecting a
// fresh client when there is none or the current one is retired. Callers
// arriving while a connection is being made share it.
func (s *Store) connect(ctx context.Context) (*conn, error) {
	for range maxConnects {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errClosed
		}
		c := s.cur
		if c == nil || c.isRetired() {
			var err error
			if c, err = s.dial(); err != nil {
				s.mu.Unlock()
				return nil, err
			}
			s.cur = c
		}
		s.mu.Unlock()
		select {
		case <-c.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, errClosed
		}
		if c.err != nil {
			return nil, c.err
		}
		if c.acquire() {
			return c, nil
		}
	}
	return nil, errLost
}

// dial makes a client and starts its first connection on a goroutine of
// its own: nothing else uses the client until it is connected, because
// the client blocks, or panics on Close, any caller queued behind a
// discovery that fails. The caller holds s.mu.
func (s *Store) dial() (*conn, error) {
	cfg := s.cfg
	client, err := es.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	c := &conn{client: client, ready: make(chan struct{}), lost: make(chan struct{}), users: 1}
	go func() {
		defer c.release()
		// GetServerVersion runs the discovery and the handshake
		// (ServerFeatures) and nothing else.
		_, err := client.GetServerVersion()
		if err != nil {
			c.err = fmt.Errorf("connect to %s: %w", s.addr, unavailable(err))
			c.retire()
		}
		close(c.ready)
		s.connected(err)
	}()
	return c, nil
}

// connected logs a connection made after one was lost, or a failed one.
func (s *Store) connected(err error) {
	s.mu.Lock()
	wasLost := s.lost
	s.lost = err != nil
	s.mu.Unlock()
	switch {
	case err != nil && !wasLost:
		s.log.Warn().Err(err).Str("node", s.addr).Msg("event store unreachable")
	case err == nil && wasLost:
		s.log.Info().Str("node", s.addr).Msg("event store connection regained")
	}
}

// retire retires c after a call on it found the node unreachable.
func (s *Store) retire(c *conn, err error) {
	if c.isRetired() {
		return
	}
	c.retire()
	s.mu.Lock()
	wasLost := s.lost
	s.lost = true
	s.mu.Unlock()
	if !wasLost {
		s.log.Warn().Err(err).Str("node", s.addr).Msg("event store connection lost")
	}
}

// call runs fn with a connected client on a goroutine of its own and
// returns its result, or an error as soon as ctx ends, the store closes or
// the connection is retired by another call: fn may be stuck inside the
// client (see the package doc). fn's context is cancelled when call
// returns, so an abandoned fn has no effect when it wakes up. Errors that
// mean the node is unreachable retire the connection and wrap
// eventstore.ErrUnavailable.
func call[T any](ctx context.Context, s *Store, fn func(ctx context.Context, c *es.Client) (T, error)) (T, error) {
	var zero T
	c, err := s.connect(ctx)
	if err != nil {
		return zero, err
	}
	fnCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	res := make(chan result, 1)
	go func() {
		defer c.release()
		v, err := fn(fnCtx, c.client)
		res <- result{v, err}
	}()
	var r result
	select {
	case r = <-res:
	case <-c.lost:
		select {
		case r = <-res:
		default:
			return zero, errLost
		}
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-s.done:
		return zero, errClosed
	}
	if r.err == nil {
		return r.v, nil
	}
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	if isConnectionError(r.err) {
		s.retire(c, r.err)
		return zero, unavailable(r.err)
	}
	return zero, r.err
}

// isConnectionError reports whether err means the node cannot be reached
// now (as opposed to an answer from it).
func isConnectionError(err error) bool {
	var e *es.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case es.ErrorUnavailable, es.ErrorCodeConnectionClosed, es.ErrorCodeDeadlineExceeded, es.ErrorCodeNotLeader:
			return true
		}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	// A client-streaming Send fails with io.EOF when the stream is gone
	// (the client reports that, not the status behind it): the node went
	// away mid-call. See Append for the one other cause.
	return errors.Is(err, io.EOF)
}

// unavailable wraps err with eventstore.ErrUnavailable unless it already
// is.
func unavailable(err error) error {
	if errors.Is(err, eventstore.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
}
