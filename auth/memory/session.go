package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.SessionStore = (*SessionStore)(nil)

// SessionStore is an in-memory auth.SessionStore. Sessions are lost when
// the process ends.
type SessionStore struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]auth.Session // by auth.HashSecret(ID), ID cleared
}

// NewSessionStore returns an empty store using clock now (nil: time.Now).
func NewSessionStore(now func() time.Time) *SessionStore {
	if now == nil {
		now = time.Now
	}
	return &SessionStore{now: now, sessions: make(map[string]auth.Session)}
}

// Create implements auth.SessionStore.
func (s *SessionStore) Create(_ context.Context, sess auth.Session) error {
	if err := sess.Validate(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	key := auth.HashSecret(sess.ID)
	sess.ID = ""
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = utc(sess.CreatedAt), utc(sess.LastSeen), utc(sess.ExpiresAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune()
	if _, ok := s.sessions[key]; ok {
		return fmt.Errorf("create session: %w", auth.ErrSessionExists)
	}
	s.sessions[key] = sess
	return nil
}

// Get implements auth.SessionStore.
func (s *SessionStore) Get(_ context.Context, id string) (auth.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[auth.HashSecret(id)]
	if !ok || !sess.Active(s.now()) {
		return auth.Session{}, auth.ErrNoSession
	}
	sess.ID = id
	return sess, nil
}

// Touch implements auth.SessionStore.
func (s *SessionStore) Touch(_ context.Context, id string, now time.Time) error {
	key := auth.HashSecret(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[key]
	if !ok || !sess.Active(now) {
		return auth.ErrNoSession
	}
	if now.After(sess.LastSeen) {
		sess.LastSeen = utc(now)
		s.sessions[key] = sess
	}
	return nil
}

// Delete implements auth.SessionStore.
func (s *SessionStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, auth.HashSecret(id))
	return nil
}

// DeleteUser implements auth.SessionStore.
func (s *SessionStore) DeleteUser(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.sessions {
		if sess.UserID == userID {
			delete(s.sessions, k)
		}
	}
	return nil
}

// prune drops expired sessions; called on Create so the map stays bounded
// by the sessions alive. Callers hold mu.
func (s *SessionStore) prune() {
	now := s.now()
	for k, sess := range s.sessions {
		if !sess.Active(now) {
			delete(s.sessions, k)
		}
	}
}

// utc normalises a time the way a durable store would return it: UTC, no
// monotonic reading.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Round(0)
}
