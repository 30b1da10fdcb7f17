package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.TokenStore = (*TokenStore)(nil)

// TokenStore is an in-memory auth.TokenStore. Tokens are lost when the
// process ends.
type TokenStore struct {
	now func() time.Time

	mu     sync.Mutex
	tokens map[string]auth.Token // by auth.HashSecret(plaintext)
}

// NewTokenStore returns an empty store using clock now (nil: time.Now).
func NewTokenStore(now func() time.Time) *TokenStore {
	if now == nil {
		now = time.Now
	}
	return &TokenStore{now: now, tokens: make(map[string]auth.Token)}
}

// Create implements auth.TokenStore.
func (s *TokenStore) Create(_ context.Context, t auth.Token) (auth.Token, string, error) {
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
	t.ID, t.CreatedAt, t.ExpiresAt = id, utc(s.now()), utc(t.ExpiresAt)
	t.ExpiresAt = t.Expiry()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[hash] = t
	return t, plain, nil
}

// Lookup implements auth.TokenStore.
func (s *TokenStore) Lookup(_ context.Context, plaintext string) (auth.Token, error) {
	if !auth.LooksLikeToken(plaintext) {
		return auth.Token{}, auth.ErrNoToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[auth.HashSecret(plaintext)]
	if !ok || !t.Active(s.now()) {
		return auth.Token{}, auth.ErrNoToken
	}
	return t, nil
}

// Revoke implements auth.TokenStore.
func (s *TokenStore) Revoke(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if t.ID == id {
			delete(s.tokens, k)
			return nil
		}
	}
	return auth.ErrNoToken
}

// List implements auth.TokenStore.
func (s *TokenStore) List(_ context.Context) ([]auth.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]auth.Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		if t.Active(now) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b auth.Token) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
