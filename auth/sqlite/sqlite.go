package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/senapred-valparaiso/vigia/auth"
)

// schemaVersion is the PRAGMA user_version this code writes and expects.
const schemaVersion = 2

const schema = `
CREATE TABLE IF NOT EXISTS sessions (
	id_hash    TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	username   TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	idle_ns    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

CREATE TABLE IF NOT EXISTS tokens (
	id         TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL -- 0 only in version 1 (then: never)
);
`

// migrateV2 gives the tokens stored when 0 meant "never expires" (schema
// version 1) the default lifetime from their creation.
var migrateV2 = fmt.Sprintf(`UPDATE tokens SET expires_at = created_at + %d WHERE expires_at = 0`,
	int64(auth.DefaultTokenLifetime))

// DB is an open sessions file. Its SessionStore and TokenStore share the
// connection pool. Times are stored as Unix nanoseconds (UTC).
type DB struct {
	db  *sql.DB
	now func() time.Time

	// The statements run on every authenticated request, prepared once
	// (database/sql then keeps one per pooled connection), so SQLite does
	// not parse them again each time.
	getSession, touchSession, lookupToken *sql.Stmt
}

// poolSize is the number of connections kept open, busy or idle. WAL lets
// readers run beside the one writer, and the driver runs in Go, so more
// connections than a few cores' worth only add memory. Keeping them all
// idle rather than closing them (database/sql keeps 2 by default) matters:
// opening a connection re-runs its pragmas and loses its prepared
// statements, and under a burst of requests the default churned through
// hundreds.
const poolSize = 8

// Open opens (creating if needed, with mode 0600 and its directory) the
// SQLite file at path, migrates its schema and prunes expired rows. now is
// the clock used to judge expiry (nil: time.Now). Close it when done.
func Open(ctx context.Context, path string, now func() time.Time) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("open sessions db %q: need a file path without '?' or '#'", path)
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	// Create the file ourselves so that it (and SQLite's -wal and -shm,
	// which copy its mode) is private to the hub's user.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	d := &DB{db: db, now: now}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	if err := d.prepare(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	if _, err := d.Prune(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sessions db %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) migrate(ctx context.Context) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("migrate: schema version %d is newer than this hub (%d)", v, schemaVersion)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, migrateV2); err != nil {
		return fmt.Errorf("migrate to version 2: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

// prepare prepares the statements of the request path.
func (d *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&d.getSession, getSessionSQL},
		{&d.touchSession, touchSessionSQL},
		{&d.lookupToken, lookupTokenSQL},
	} {
		st, err := d.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = st
	}
	return nil
}

// Close closes the file.
func (d *DB) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{d.getSession, d.touchSession, d.lookupToken} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, d.db.Close())...)
}

// Sessions returns the session store backed by d.
func (d *DB) Sessions() *SessionStore { return &SessionStore{d: d} }

// Tokens returns the token store backed by d.
func (d *DB) Tokens() *TokenStore { return &TokenStore{d: d} }

// Prune deletes expired sessions and tokens and returns how many rows went.
func (d *DB) Prune(ctx context.Context) (int64, error) {
	now := d.now().UnixNano()
	res, err := d.db.ExecContext(ctx,
		`DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen + idle_ns <= ?1`, now)
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = d.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at != 0 AND expires_at <= ?`, now)
	if err != nil {
		return n, fmt.Errorf("prune tokens: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// nanos converts t for storage; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// inRange reports whether t can be stored as Unix nanoseconds.
func inRange(t time.Time) bool {
	return t.IsZero() || (t.After(minTime) && t.Before(maxTime))
}

var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, 1<<63-1).Add(-366 * 24 * time.Hour)
)

var errOutOfRange = errors.New("time out of storable range (1970 to 2261)")
