// Package postgres keeps API tokens in Postgres, so that every hub instance
// of a fleet accepts the same tokens and a token outlives any restart
// (Redis, which holds the fleet's sessions, may keep nothing on disk).
// It owns the table auth_tokens in the schema its connections resolve
// first; only hashes of the secrets are stored.
//
// It imports auth only.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.TokenStore = (*TokenStore)(nil)

// TokenStore is auth.TokenStore on Postgres.
type TokenStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
	own  bool
}

// schema is applied at Open; it only ever grows by new statements.
const schema = `CREATE TABLE IF NOT EXISTS auth_tokens (
	id         text PRIMARY KEY,
	hash       text NOT NULL UNIQUE,
	name       text NOT NULL,
	role       text NOT NULL,
	created_by text NOT NULL,
	created_at bigint NOT NULL, -- Unix nanoseconds
	expires_at bigint NOT NULL  -- Unix nanoseconds; 0 only before migrateExpiry
)`

// migrateExpiry gives the tokens stored when 0 meant "never expires" the
// default lifetime from their creation (auth.DefaultTokenLifetime). It is
// idempotent, so it runs at every Open.
var migrateExpiry = fmt.Sprintf(`UPDATE auth_tokens SET expires_at = created_at + %d WHERE expires_at = 0`,
	int64(auth.DefaultTokenLifetime))

// Open connects to dsn and creates the table if needed; now nil means
// time.Now.
func Open(ctx context.Context, dsn string, now func() time.Time) (*TokenStore, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open token store: %w", err)
	}
	s, err := New(ctx, pool, now)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// New uses an existing pool (not closed by Close).
func New(ctx context.Context, pool *pgxpool.Pool, now func() time.Time) (*TokenStore, error) {
	if now == nil {
		now = time.Now
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		return nil, fmt.Errorf("open token store: %w", err)
	}
	if _, err := pool.Exec(ctx, migrateExpiry); err != nil {
		return nil, fmt.Errorf("open token store: migrate expiry: %w", err)
	}
	return &TokenStore{pool: pool, now: now}, nil
}

// Close releases the pool if Open made it.
func (s *TokenStore) Close() {
	if s.own {
		s.pool.Close()
	}
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Create implements auth.TokenStore.
func (s *TokenStore) Create(ctx context.Context, t auth.Token) (auth.Token, string, error) {
	if err := t.Validate(); err != nil {
		return auth.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	id, err := auth.NewTokenID()
	if err != nil {
		return auth.Token{}, "", err
	}
	plain, hash, err := auth.NewTokenSecret()
	if err != nil {
		return auth.Token{}, "", err
	}
	t.ID, t.CreatedAt, t.ExpiresAt = id, fromNanos(nanos(s.now())), fromNanos(nanos(t.ExpiresAt))
	t.ExpiresAt = t.Expiry()
	_, err = s.pool.Exec(ctx, `INSERT INTO auth_tokens (id, hash, name, role, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, hash, t.Name, string(t.Role), t.CreatedBy, nanos(t.CreatedAt), nanos(t.ExpiresAt))
	if err != nil {
		return auth.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, plain, nil
}

const columns = `id, name, role, created_by, created_at, expires_at`

func scan(r pgx.Row) (auth.Token, error) {
	var (
		t            auth.Token
		role         string
		created, exp int64
	)
	if err := r.Scan(&t.ID, &t.Name, &role, &t.CreatedBy, &created, &exp); err != nil {
		return auth.Token{}, err
	}
	t.Role, t.CreatedAt, t.ExpiresAt = auth.Role(role), fromNanos(created), fromNanos(exp)
	return t, nil
}

// Lookup implements auth.TokenStore.
func (s *TokenStore) Lookup(ctx context.Context, plaintext string) (auth.Token, error) {
	if !auth.LooksLikeToken(plaintext) {
		return auth.Token{}, auth.ErrNoToken
	}
	t, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM auth_tokens WHERE hash = $1`, auth.HashSecret(plaintext)))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, auth.ErrNoToken
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("lookup token: %w", err)
	}
	if !t.Active(s.now()) {
		return auth.Token{}, auth.ErrNoToken
	}
	return t, nil
}

// Revoke implements auth.TokenStore.
func (s *TokenStore) Revoke(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM auth_tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNoToken
	}
	return nil
}

// List implements auth.TokenStore.
func (s *TokenStore) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM auth_tokens
		WHERE expires_at = 0 OR expires_at > $1 ORDER BY created_at, id`, s.now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []auth.Token{}
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}
