package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// FallbackSessions wraps a shared SessionStore (Redis) with a small
// in-process memory of the sessions this instance validated recently, used
// only while the store cannot be reached: operators who were working keep
// working through a short outage of the store, because the event store, not
// the session store, is the truth of their edits. A session unknown to this
// instance, or last validated longer ago than Grace, is refused as usual.
// The price, stated: a logout made on another instance during the outage
// takes effect here when the store answers again, or after Grace.
type FallbackSessions struct {
	SessionStore
	grace time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]seenSession // by HashSecret(id)
}

type seenSession struct {
	s  Session
	at time.Time
}

// NewFallbackSessions wraps store; grace is how long a validated session
// may be trusted from memory during an outage; now nil means time.Now.
func NewFallbackSessions(store SessionStore, grace time.Duration, now func() time.Time) *FallbackSessions {
	if now == nil {
		now = time.Now
	}
	return &FallbackSessions{SessionStore: store, grace: grace, now: now, seen: map[string]seenSession{}}
}

// unreachable reports whether err is a failure of the store itself, as
// opposed to an answer (no such session).
func unreachable(err error) bool {
	return err != nil && !errors.Is(err, ErrNoSession) && !errors.Is(err, ErrInvalidSession) && !errors.Is(err, ErrSessionExists)
}

// Get implements SessionStore.
func (f *FallbackSessions) Get(ctx context.Context, id string) (Session, error) {
	s, err := f.SessionStore.Get(ctx, id)
	key := HashSecret(id)
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err == nil:
		f.seen[key] = seenSession{s: s, at: now}
		f.prune(now)
		return s, nil
	case unreachable(err):
		if m, ok := f.seen[key]; ok && now.Sub(m.at) < f.grace && m.s.Active(now) {
			return m.s, nil
		}
	default:
		delete(f.seen, key)
	}
	return Session{}, err
}

// Touch implements SessionStore; during an outage a remembered session's
// touch is skipped rather than failing the request.
func (f *FallbackSessions) Touch(ctx context.Context, id string, now time.Time) error {
	err := f.SessionStore.Touch(ctx, id, now)
	if unreachable(err) {
		f.mu.Lock()
		m, ok := f.seen[HashSecret(id)]
		f.mu.Unlock()
		if ok && f.now().Sub(m.at) < f.grace {
			return nil
		}
	}
	return err
}

// Delete implements SessionStore and forgets the session here too.
func (f *FallbackSessions) Delete(ctx context.Context, id string) error {
	f.mu.Lock()
	delete(f.seen, HashSecret(id))
	f.mu.Unlock()
	return f.SessionStore.Delete(ctx, id)
}

// DeleteUser implements SessionStore and forgets the user's sessions here.
func (f *FallbackSessions) DeleteUser(ctx context.Context, userID string) error {
	f.mu.Lock()
	for k, m := range f.seen {
		if m.s.UserID == userID {
			delete(f.seen, k)
		}
	}
	f.mu.Unlock()
	return f.SessionStore.DeleteUser(ctx, userID)
}

// prune drops memories older than grace; f.mu is held.
func (f *FallbackSessions) prune(now time.Time) {
	if len(f.seen) < 1024 {
		return
	}
	for k, m := range f.seen {
		if now.Sub(m.at) >= f.grace {
			delete(f.seen, k)
		}
	}
}
