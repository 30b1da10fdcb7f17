package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/pg/pgerr"
)

var _ eventstore.Store = (*Store)(nil)

// errClosed is returned by a closed store and ends its subscriptions.
var errClosed = fmt.Errorf("store closed: %w", eventstore.ErrUnavailable)

// Store is an event store in a Postgres schema (the first of the
// connection's search_path). It is safe for concurrent use, and any number
// of Stores, in one process or many, may share a schema.
type Store struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	poll    time.Duration
	channel string // the NOTIFY channel of this schema

	// listen is false only in tests that prove the poll fallback.
	listen bool
	// beforeCommit, when set by a test, runs in every append transaction
	// after its positions are allocated and its rows inserted, just before
	// COMMIT; an error rolls the append back.
	beforeCommit func(ctx context.Context) error

	ctx  context.Context // cancelled by Close
	stop context.CancelFunc

	// batches holds the appends waiting for this Store's writer
	// goroutine, which commits them in batches (group commit) until Close.
	batches *eventstore.GroupCommit[*columns]

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced on every known commit

	listenMu  sync.Mutex
	listening bool // the listener was started
	pidMu     sync.Mutex
	pid       uint32 // the listener's backend process, for tests

	subs eventstore.Subscriptions
	wg   sync.WaitGroup // the listener

	closeOnce sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps RecordedAt (default time.Now), kept
// to Postgres's microseconds. A nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithPollInterval sets how often an idle subscription re-reads the log
// even without a notification (default 1s): the fallback that bounds the
// delay of an event whose NOTIFY was lost, e.g. while the listening
// connection was reconnecting. d <= 0 keeps the default.
func WithPollInterval(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.poll = d
		}
	}
}

// Open connects to the database at dsn (a pgx connection string; pool_*
// parameters tune the pool), applies the migrations the schema lacks and
// returns the store. An unreachable server is an error wrapping
// eventstore.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	for k, v := range sessionParams {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", classify(err))
	}
	s, err := open(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open event store: %w", err)
	}
	return s, nil
}

// sessionParams are the settings of the pool's sessions, unless the dsn
// sets them. Every query of the store walks an index in the order it
// returns rows and stops at its LIMIT: a page of $all is a walk of the
// position index, a few milliseconds for thousands of events. The planner
// only strays from that when it misjudges how many rows pass a filter (no
// statistics yet after a bulk load, or a generic plan's guesses), and then
// what it picks instead, a bitmap or parallel scan of everything after the
// position and a sort, or a Gather Merge that starts workers for every
// page, costs from 5 to 100 times as much, on every page of a catch-up.
// The log is append-only and its position order is its physical order, so
// the index walk is never much worse than those plans.
var sessionParams = map[string]string{
	"enable_sort":                     "off",
	"max_parallel_workers_per_gather": "0",
}

func open(ctx context.Context, pool *pgxpool.Pool, opts []Option) (*Store, error) {
	if err := pool.Ping(ctx); err != nil {
		return nil, classify(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, classify(err)
	}
	sum := sha256.Sum256([]byte(schema))
	s := &Store{
		pool:    pool,
		now:     time.Now,
		poll:    time.Second,
		channel: "vigia_es_" + hex.EncodeToString(sum[:8]),
		listen:  true,
		notify:  make(chan struct{}),
		batches: eventstore.NewGroupCommit[*columns](queued, maxBatch, maxBatchEvents),
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	for _, o := range opts {
		o(s)
	}
	go s.write()
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.ctx.Err() != nil {
		return fmt.Errorf("ping: %w", errClosed)
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", classify(err))
	}
	return nil
}

// Close ends the subscriptions and the listener, waits for the batch of
// appends being committed and closes the pool. Appends still queued, later
// calls to Append and reads fail with an error wrapping
// eventstore.ErrUnavailable; later calls to Close return nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.listenMu.Lock() // no listener starts after this
		s.stop()
		s.listenMu.Unlock()
		<-s.batches.Stopped() // the writer answered the batch in flight, if any
		s.subs.Close(errClosed)
		s.wg.Wait()
		s.pool.Close() // waits for connections in use
	})
	return nil
}

// changed returns the channel the next known commit closes. Take it
// before reading, so that a commit racing the read is never missed.
func (s *Store) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// broadcast wakes every subscription waiting for a commit.
func (s *Store) broadcast() {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	close(s.notify)
	s.notify = make(chan struct{})
}

// fail maps an error of the pool: a closed store's, or classify's.
func (s *Store) fail(err error) error {
	if s.ctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return errClosed
	}
	return classify(err)
}

// classify wraps err with eventstore.ErrUnavailable when it means the
// database cannot be reached now (as opposed to a failing statement or a
// cancelled context), so that the web layer answers 503.
func classify(err error) error {
	if unavailable(err) {
		return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	return errors.Is(err, eventstore.ErrUnavailable) || pgerr.Unreachable(err)
}
