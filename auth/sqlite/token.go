package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.TokenStore = (*TokenStore)(nil)

// TokenStore is the durable auth.TokenStore; get one from DB.Tokens.
type TokenStore struct{ d *DB }

// Create implements auth.TokenStore.
func (s *TokenStore) Create(ctx context.Context, t auth.Token) (auth.Token, string, error) {
	if err := t.Validate(); err != nil {
		return auth.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	if !inRange(t.ExpiresAt) {
		return auth.Token{}, "", fmt.Errorf("create token: %w: %w", auth.ErrInvalidToken, errOutOfRange)
	}
	id, err := auth.NewTokenID()
	if err != nil {
		return auth.Token{}, "", err
	}
	plain, hash, err := auth.NewTokenSecret()
	if err != nil {
		return auth.Token{}, "", err
	}
	t.ID, t.CreatedAt, t.ExpiresAt = id, fromNanos(nanos(s.d.now())), fromNanos(nanos(t.ExpiresAt))
	t.ExpiresAt = t.Expiry()
	_, err = s.d.db.ExecContext(ctx, `
		INSERT INTO tokens (id, hash, name, role, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, hash, t.Name, string(t.Role), t.CreatedBy, nanos(t.CreatedAt), nanos(t.ExpiresAt))
	if err != nil {
		return auth.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, plain, nil
}

const (
	tokenColumns   = `id, name, role, created_by, created_at, expires_at`
	lookupTokenSQL = `SELECT ` + tokenColumns + ` FROM tokens WHERE hash = ?`
)

type scanner interface{ Scan(...any) error }

func scanToken(r scanner) (auth.Token, error) {
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
	t, err := scanToken(s.d.lookupToken.QueryRowContext(ctx, auth.HashSecret(plaintext)))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, auth.ErrNoToken
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("lookup token: %w", err)
	}
	if !t.Active(s.d.now()) {
		return auth.Token{}, auth.ErrNoToken
	}
	return t, nil
}

// Revoke implements auth.TokenStore.
func (s *TokenStore) Revoke(ctx context.Context, id string) error {
	res, err := s.d.db.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n == 0 {
		return auth.ErrNoToken
	}
	return nil
}

// List implements auth.TokenStore.
func (s *TokenStore) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.d.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE expires_at = 0 OR expires_at > ? ORDER BY created_at, id`, s.d.now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []auth.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
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
