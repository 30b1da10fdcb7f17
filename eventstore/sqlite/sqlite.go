package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/senapred-valparaiso/vigia/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// migrations are applied in order at Open; PRAGMA user_version counts how
// many the file has. Append new ones, never edit one that has shipped.
var migrations = []string{
	// 1: the log. position is the global position; AUTOINCREMENT keeps it
	// from ever being reused. UNIQUE (stream, version) is the stream index
	// (reads, newest version) and the last guard against a forked stream.
	`CREATE TABLE events (
		position       INTEGER PRIMARY KEY AUTOINCREMENT,
		id             TEXT    NOT NULL UNIQUE,
		stream         TEXT    NOT NULL,
		version        INTEGER NOT NULL,
		type           TEXT    NOT NULL,
		schema         INTEGER NOT NULL,
		data           TEXT    NOT NULL,
		actor_id       TEXT    NOT NULL,
		actor_username TEXT    NOT NULL,
		actor_role     TEXT    NOT NULL,
		correlation_id TEXT    NOT NULL,
		causation_id   TEXT    NOT NULL,
		recorded_at    INTEGER NOT NULL, -- Unix nanoseconds, UTC
		UNIQUE (stream, version)
	)`,
}

// readers is the size of the read-only connection pool.
const readers = 4

// errClosed is returned by a closed store and ends its subscriptions.
var errClosed = fmt.Errorf("store closed: %w", eventstore.ErrUnavailable)

// Store is an event store in one SQLite file. It is safe for concurrent
// use. Open it with Open and Close it when done.
type Store struct {
	now  func() time.Time
	poll time.Duration

	writer *sql.DB // one connection: appends and migrations
	reader *sql.DB // read-only connections: reads and subscriptions
	stmts  *statements
	reads  *readStatements

	// batches holds the appends waiting for the writer goroutine, which
	// commits them in batches (group commit) until Close.
	batches *eventstore.GroupCommit[[]string]
	done    chan struct{} // closed by Close

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after every commit

	subs eventstore.Subscriptions

	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps RecordedAt (default time.Now). Tests
// inject a fixed or stepping clock. A nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithPollInterval makes idle subscriptions also re-read the file every d,
// to see events that another process (a hub CLI subcommand) appended to
// it. By default (0) subscriptions wake only on this Store's appends, and
// such events are delivered with the next one.
func WithPollInterval(d time.Duration) Option {
	return func(s *Store) { s.poll = max(d, 0) }
}

// Open opens, creating it if needed (mode 0600, with its directory), the
// event store in the SQLite file at path and brings its schema up to date.
func Open(path string, opts ...Option) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open event store %q: need a plain file path", path)
	}
	s := &Store{
		now:     time.Now,
		batches: eventstore.NewGroupCommit[[]string](queued, maxBatch, maxBatchEvents),
		done:    make(chan struct{}),
		notify:  make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if err := create(path); err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	// The writer begins IMMEDIATE so that the revision check and the
	// insert run under SQLite's write lock, even against another process.
	w, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s.writer = w
	if err := s.migrate(context.Background()); err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), w.Close())
	}
	r, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), w.Close())
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s.reader = r
	if err := r.Ping(); err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), w.Close(), r.Close())
	}
	if s.reads, err = prepareReads(context.Background(), r); err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), w.Close(), r.Close())
	}
	if s.stmts, err = prepare(context.Background(), w); err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), s.reads.close(), w.Close(), r.Close())
	}
	go s.write()
	return s, nil
}

// create makes the file and its directory, private to the hub's user
// (SQLite's -wal and -shm files copy the file's mode).
func create(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// migrate applies the migrations the file lacks, each in its own
// transaction together with the user_version that records it.
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate: schema version %d is newer than this hub's (%d)", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if err := s.migrateTo(ctx, v+1); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

func (s *Store) migrateTo(ctx context.Context, v int) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&cur); err != nil {
		return err
	}
	if cur >= v { // another process got there first
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping reports whether the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed() {
		return fmt.Errorf("ping: %w", errClosed)
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT 1 FROM events LIMIT 1`).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close ends the subscriptions, waits for the appends being committed and
// closes the file. Appends still queued, later calls to Append and reads
// fail with an error wrapping eventstore.ErrUnavailable; later calls to
// Close return nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		<-s.batches.Stopped() // the writer answered the batch in flight, if any
		s.subs.Close(errClosed)
		s.closeErr = errors.Join(s.stmts.close(), s.reads.close(), s.reader.Close(), s.writer.Close())
	})
	return s.closeErr
}

func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// changed returns the channel the next commit closes. Take it before
// reading, so that a commit racing the read is never missed.
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
