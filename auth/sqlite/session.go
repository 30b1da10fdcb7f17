package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.SessionStore = (*SessionStore)(nil)

const (
	getSessionSQL = `
		SELECT user_id, username, role, created_at, last_seen, idle_ns, expires_at
		FROM sessions WHERE id_hash = ?`
	touchSessionSQL = `
		UPDATE sessions SET last_seen = MAX(last_seen, ?1)
		WHERE id_hash = ?2 AND expires_at > ?1 AND last_seen + idle_ns > ?1`
)

// SessionStore is the durable auth.SessionStore; get one from DB.Sessions.
type SessionStore struct{ d *DB }

// Create implements auth.SessionStore. It also prunes expired rows.
func (s *SessionStore) Create(ctx context.Context, sess auth.Session) error {
	if err := sess.Validate(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if !inRange(sess.CreatedAt) || !inRange(sess.LastSeen) || !inRange(sess.ExpiresAt) {
		return fmt.Errorf("create session: %w: %w", auth.ErrInvalidSession, errOutOfRange)
	}
	if _, err := s.d.Prune(ctx); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	res, err := s.d.db.ExecContext(ctx, `
		INSERT INTO sessions (id_hash, user_id, username, role, created_at, last_seen, idle_ns, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id_hash) DO NOTHING`,
		auth.HashSecret(sess.ID), sess.UserID, sess.Username, string(sess.Role),
		nanos(sess.CreatedAt), nanos(sess.LastSeen), int64(sess.IdleTimeout), nanos(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create session: %w", err)
	} else if n == 0 {
		return fmt.Errorf("create session: %w", auth.ErrSessionExists)
	}
	return nil
}

// Get implements auth.SessionStore.
func (s *SessionStore) Get(ctx context.Context, id string) (auth.Session, error) {
	var (
		sess                     auth.Session
		role                     string
		created, seen, idle, exp int64
	)
	err := s.d.getSession.QueryRowContext(ctx, auth.HashSecret(id)).
		Scan(&sess.UserID, &sess.Username, &role, &created, &seen, &idle, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, auth.ErrNoSession
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("get session: %w", err)
	}
	sess.ID, sess.Role = id, auth.Role(role)
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = fromNanos(created), fromNanos(seen), fromNanos(exp)
	sess.IdleTimeout = time.Duration(idle)
	if !sess.Active(s.d.now()) {
		return auth.Session{}, auth.ErrNoSession
	}
	return sess, nil
}

// Touch implements auth.SessionStore in one conditional UPDATE, so a
// session that has already expired cannot be revived by a racing Touch.
func (s *SessionStore) Touch(ctx context.Context, id string, now time.Time) error {
	if !inRange(now) {
		return fmt.Errorf("touch session: %w", errOutOfRange)
	}
	res, err := s.d.touchSession.ExecContext(ctx, nanos(now), auth.HashSecret(id))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if n == 0 {
		return auth.ErrNoSession
	}
	return nil
}

// Delete implements auth.SessionStore.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if _, err := s.d.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, auth.HashSecret(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUser implements auth.SessionStore.
func (s *SessionStore) DeleteUser(ctx context.Context, userID string) error {
	if _, err := s.d.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions of user %s: %w", userID, err)
	}
	return nil
}
