package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session lifetimes used when SessionPolicy leaves them zero.
const (
	// DefaultIdleTimeout ends a session after this long without a request:
	// one long duty shift.
	DefaultIdleTimeout = 12 * time.Hour
	// DefaultMaxLifetime ends a session this long after login, however
	// active it is.
	DefaultMaxLifetime = 7 * 24 * time.Hour
)

// Session errors.
var (
	// ErrNoSession means the session does not exist, was deleted, or has
	// expired (idle or absolute). Callers treat all three alike: 401.
	ErrNoSession = errors.New("no such session")
	// ErrSessionExists is returned by SessionStore.Create for an ID that is
	// already stored. With random IDs it signals a bug, not a user error.
	ErrSessionExists = errors.New("session already exists")
	// ErrInvalidSession is returned (wrapped) by SessionStore.Create for a
	// Session that fails Validate.
	ErrInvalidSession = errors.New("invalid session")
)

// Session is a logged-in browser. Its ID is the secret in the cookie; stores
// keep only HashSecret(ID).
type Session struct {
	// ID is the plaintext session ID (NewSessionID). SessionStore.Get
	// returns the ID it was asked for; it cannot recover it from storage.
	ID string
	// UserID is the user's ID. UserID, Username and Role are copied from
	// the user at login: a change of role, a disabled user or a new
	// password must end the user's sessions (SessionStore.DeleteUser) to
	// take effect.
	UserID string
	// Username is the user's login name at login.
	Username string
	// Role is the user's role at login.
	Role Role
	// CreatedAt is the login time.
	CreatedAt time.Time
	// LastSeen is the time of the last Touch (initially CreatedAt).
	LastSeen time.Time
	// IdleTimeout is how long the session lives after LastSeen. It is kept
	// per session so that a store needs no configuration and so that it
	// maps directly onto a key TTL (Redis EXPIRE).
	IdleTimeout time.Duration
	// ExpiresAt is the absolute end of the session, whatever its activity.
	ExpiresAt time.Time
}

// Deadline is when the session ends if it is not touched again: the
// earlier of LastSeen+IdleTimeout and ExpiresAt. A TTL-based store sets its
// key to expire at Deadline on Create and on every Touch.
func (s Session) Deadline() time.Time {
	idle := s.LastSeen.Add(s.IdleTimeout)
	if idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// Active reports whether the session is usable at now: now is strictly
// before Deadline.
func (s Session) Active(now time.Time) bool { return now.Before(s.Deadline()) }

// Validate checks what every store requires of a new session. The error
// matches ErrInvalidSession.
func (s Session) Validate() error {
	var why string
	switch {
	case s.ID == "":
		why = "empty ID"
	case s.UserID == "":
		why = "empty user ID"
	case !s.Role.Valid():
		why = "unknown role"
	case s.CreatedAt.IsZero() || s.LastSeen.IsZero() || s.ExpiresAt.IsZero():
		why = "zero time"
	case s.IdleTimeout <= 0:
		why = "non-positive idle timeout"
	case !s.ExpiresAt.After(s.CreatedAt):
		why = "expires before it starts"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidSession, why)
}

// SessionStore is the port for cookie sessions. Adapters: sqlite (durable,
// embedded), memory (tests); a Redis adapter is planned for fleets. Every
// adapter passes sessiontest.Run.
//
// Contract:
//   - Secrets: a store keys sessions by HashSecret(ID) and never persists
//     the plaintext ID, so a leaked store cannot be replayed as cookies.
//   - Expiry: a session is usable while Session.Active at the store's
//     clock (adapters take a now func). Get and Touch treat an expired
//     session exactly like a missing one (ErrNoSession); a store may purge
//     it at any time after.
//   - Times round-trip exactly (to the nanosecond, compare with Equal) and
//     come back in UTC.
//   - Durability: an adapter documents whether sessions survive a restart
//     (sqlite does; memory does not). Create, Touch, Delete and DeleteUser
//     are durable when they return nil.
//   - All methods are safe for concurrent use, also from several
//     processes sharing one backend.
//
// A Redis adapter maps it as: a hash at session:<HashSecret(ID)> with
// PEXPIREAT Session.Deadline (Create, Touch), so idle expiry is the key's
// TTL; a set user-sessions:<UserID> of hashes for DeleteUser.
type SessionStore interface {
	// Create stores s, which must pass Validate (else ErrInvalidSession).
	// An ID already stored returns ErrSessionExists and changes nothing.
	Create(ctx context.Context, s Session) error
	// Get returns the session with plaintext ID id, with Session.ID set to
	// id, or ErrNoSession when it is missing or no longer Active.
	Get(ctx context.Context, id string) (Session, error)
	// Touch records activity at now: LastSeen becomes the later of LastSeen
	// and now, sliding the idle deadline (never past ExpiresAt). A session
	// missing or not Active at now returns ErrNoSession and stays dead.
	Touch(ctx context.Context, id string, now time.Time) error
	// Delete ends the session (logout). Deleting a missing session is nil.
	Delete(ctx context.Context, id string) error
	// DeleteUser ends every session of the user, e.g. when they are
	// disabled, change role or change password. No sessions is nil.
	DeleteUser(ctx context.Context, userID string) error
}

// SessionPolicy sets session lifetimes. The zero value means the defaults.
type SessionPolicy struct {
	// IdleTimeout: zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxLifetime: zero means DefaultMaxLifetime.
	MaxLifetime time.Duration
}

// NewSession returns a session with a fresh ID for the user, starting at
// now, with p's lifetimes. It does not store it.
func (p SessionPolicy) NewSession(userID, username string, role Role, now time.Time) (Session, error) {
	id, err := NewSessionID()
	if err != nil {
		return Session{}, err
	}
	idle, max := p.IdleTimeout, p.MaxLifetime
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if max <= 0 {
		max = DefaultMaxLifetime
	}
	now = now.UTC().Round(0)
	return Session{
		ID: id, UserID: userID, Username: username, Role: role,
		CreatedAt: now, LastSeen: now, IdleTimeout: idle, ExpiresAt: now.Add(max),
	}, nil
}

// NewSessionID returns a new session ID: 32 bytes from crypto/rand in
// unpadded base64url (43 characters, safe in a cookie).
func NewSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret returns the lowercase hex SHA-256 of a high-entropy secret (a
// session ID or an API token). Stores keep this instead of the secret. A
// plain hash is enough because the secrets are 256-bit random values, not
// passwords: there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SessionRef returns a short, non-secret reference to the session with
// plaintext ID id (the first 16 hex digits of its hash), for logs and
// Principal.SessionID.
func SessionRef(id string) string { return HashSecret(id)[:16] }
