package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// TokenPrefix starts every API token, so that tokens are recognisable in
// configuration files and by secret scanners.
const TokenPrefix = "vgt_"

// MaxTokenNameLen is the longest token name, in characters.
const MaxTokenNameLen = 100

// Token lifetimes. Every token expires: a token is a bearer secret kept in
// scripts and on wall displays, where it is easily forgotten.
const (
	// DefaultTokenLifetime is the lifetime of a token created without one,
	// and the one given (from their creation) to tokens stored before
	// every token had an expiry.
	DefaultTokenLifetime = 90 * 24 * time.Hour
	// MaxTokenLifetime is the longest lifetime a token may be created with.
	MaxTokenLifetime = 365 * 24 * time.Hour
)

// SystemCreatorPrefix starts Token.CreatedBy for tokens made by the hub's
// own commands (`hub token create` is "system:cli", the demo "system:demo")
// rather than by a user. Whoever runs them has the hub's files, so such a
// token is not tied to any user's account.
const SystemCreatorPrefix = "system:"

// Token errors.
var (
	// ErrNoToken means the token is unknown, revoked or expired. Callers
	// treat all alike: 401 on use, 404 on revoke.
	ErrNoToken = errors.New("no such token")
	// ErrInvalidToken is returned (wrapped) for a token that fails
	// Validate, other than an unknown role (ErrUnknownRole).
	ErrInvalidToken = errors.New("invalid token")
)

// Token is an API token for a script or a wall display. The secret itself
// is not part of it: it is shown once, by TokenStore.Create.
type Token struct {
	// ID identifies the token in lists, audit actors and Revoke; it is not
	// secret. Assigned by the store.
	ID string
	// Name is a label chosen by its creator, such as "muro-sala-1".
	Name string
	// Role is what the token may do.
	Role Role
	// CreatedBy is the ID of the user who created it.
	CreatedBy string
	// CreatedAt is set by the store.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working. Zero in TokenStore.Create
	// means CreatedAt + DefaultTokenLifetime; a stored token always has one.
	ExpiresAt time.Time
}

// Expiry returns when the token stops working: ExpiresAt, or for a token
// without one (stored before expiry was required) CreatedAt +
// DefaultTokenLifetime.
func (t Token) Expiry() time.Time {
	if t.ExpiresAt.IsZero() {
		return t.CreatedAt.Add(DefaultTokenLifetime)
	}
	return t.ExpiresAt
}

// Active reports whether the token is usable at now.
func (t Token) Active(now time.Time) bool { return now.Before(t.Expiry()) }

// BySystem reports whether the token was made by a hub command rather than
// by a user (see SystemCreatorPrefix).
func (t Token) BySystem() bool { return strings.HasPrefix(t.CreatedBy, SystemCreatorPrefix) }

// Validate checks the fields a caller supplies to TokenStore.Create: a name
// of 1 to MaxTokenNameLen characters, a known role (else ErrUnknownRole)
// and a creator. Other failures match ErrInvalidToken.
func (t Token) Validate() error {
	n := utf8.RuneCountInString(strings.TrimSpace(t.Name))
	switch {
	case !utf8.ValidString(t.Name) || n == 0 || n > MaxTokenNameLen:
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalidToken, MaxTokenNameLen)
	case !t.Role.Valid():
		return fmt.Errorf("token role %q: %w", t.Role, ErrUnknownRole)
	case t.CreatedBy == "":
		return fmt.Errorf("%w: empty creator", ErrInvalidToken)
	}
	return nil
}

// TokenStore is the port for API tokens. Adapters: sqlite (durable, shares
// the sessions file), memory (tests). Every adapter passes
// sessiontest.RunTokenStore.
//
// Contract:
//   - Secrets: Create generates the plaintext (NewTokenSecret) and returns
//     it exactly once; the store keeps only HashSecret(plaintext).
//   - Expiry: Create stores a zero ExpiresAt as CreatedAt +
//     DefaultTokenLifetime, so every stored token expires (tokens stored
//     before that are given it by the adapter's migration). A token is
//     usable while Token.Active at the store's clock; Lookup and List
//     treat an expired token as gone.
//   - Creator: CreatedBy round-trips; the store does not interpret it
//     (Service checks the creator's account on every authentication).
//   - Times round-trip exactly and come back in UTC.
//   - Durable when a method returns nil (sqlite); safe for concurrent use.
type TokenStore interface {
	// Create validates t (Token.Validate), assigns ID and CreatedAt, stores
	// it and returns the stored token and its plaintext secret.
	Create(ctx context.Context, t Token) (Token, string, error)
	// Lookup returns the token whose secret is plaintext, or ErrNoToken
	// when it is unknown, revoked, expired or not a token at all.
	Lookup(ctx context.Context, plaintext string) (Token, error)
	// Revoke deletes the token with ID id; ErrNoToken if there is none.
	Revoke(ctx context.Context, id string) error
	// List returns the active tokens, oldest first (by CreatedAt, then ID).
	List(ctx context.Context) ([]Token, error)
}

// NewTokenSecret returns a new API token, TokenPrefix followed by 32 bytes
// from crypto/rand in unpadded base64url, and its HashSecret.
func NewTokenSecret() (plaintext, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new token: %w", err)
	}
	plaintext = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plaintext, HashSecret(plaintext), nil
}

// NewTokenID returns a new token ID (a UUID v7, so IDs sort by creation).
func NewTokenID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new token id: %w", err)
	}
	return id.String(), nil
}

// LooksLikeToken reports whether s has the shape of an API token, so that a
// store can refuse garbage without a query.
func LooksLikeToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}
