// Package redis keeps sessions and login throttling in Redis, so that a
// fleet of hub instances shares them: a session made on one instance is
// valid on every other, a logout anywhere ends it everywhere, and failed
// logins are counted across the fleet.
//
// Keys (under a configurable prefix, "vigia:" by default):
//
//	<prefix>session:<HashSecret(id)>   the session (JSON), expiring at its Deadline
//	<prefix>user-sessions:<user id>    set of that user's session hashes
//	<prefix>limit:<key>                a LimitState (JSON), expiring at ForgetAt
//
// Idle expiry is the key's TTL, reset on every Touch; the adapter also
// checks Session.Active at its own clock, so a key that outlived its
// deadline is never accepted. TTLs are set relative to the adapter's clock
// (PEXPIRE deadline-now), so an injected test clock works against a real
// server. Durability is Redis's: with no persistence configured, a Redis
// restart logs everyone out (they log in again; nothing else is lost).
//
// It imports auth only.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/senapred-valparaiso/vigia/auth"
)

var (
	_ auth.SessionStore = (*SessionStore)(nil)
	_ auth.Limiter      = (*Limiter)(nil)
)

// DefaultPrefix namespaces every key.
const DefaultPrefix = "vigia:"

// SessionStore is auth.SessionStore on Redis.
type SessionStore struct {
	c      goredis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewSessionStore returns a session store on client; prefix "" means
// DefaultPrefix, now nil means time.Now. It does not close the client.
func NewSessionStore(client goredis.UniversalClient, prefix string, now func() time.Time) *SessionStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if now == nil {
		now = time.Now
	}
	return &SessionStore{c: client, prefix: prefix, now: now}
}

type storedSession struct {
	UserID      string        `json:"user_id"`
	Username    string        `json:"username"`
	Role        auth.Role     `json:"role"`
	CreatedAt   time.Time     `json:"created_at"`
	LastSeen    time.Time     `json:"last_seen"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	ExpiresAt   time.Time     `json:"expires_at"`
}

func (s *SessionStore) key(id string) string { return s.prefix + "session:" + auth.HashSecret(id) }
func (s *SessionStore) userKey(userID string) string {
	return s.prefix + "user-sessions:" + userID
}

func toStored(x auth.Session) storedSession {
	return storedSession{UserID: x.UserID, Username: x.Username, Role: x.Role, CreatedAt: x.CreatedAt.UTC(),
		LastSeen: x.LastSeen.UTC(), IdleTimeout: x.IdleTimeout, ExpiresAt: x.ExpiresAt.UTC()}
}

func (st storedSession) session(id string) auth.Session {
	return auth.Session{ID: id, UserID: st.UserID, Username: st.Username, Role: st.Role, CreatedAt: st.CreatedAt.UTC(),
		LastSeen: st.LastSeen.UTC(), IdleTimeout: st.IdleTimeout, ExpiresAt: st.ExpiresAt.UTC()}
}

// ttl is how long a key should live from now to reach deadline (at least
// one millisecond: Redis refuses zero).
func ttl(deadline, now time.Time) time.Duration {
	return max(deadline.Sub(now), time.Millisecond)
}

// Create implements auth.SessionStore.
func (s *SessionStore) Create(ctx context.Context, sess auth.Session) error {
	if err := sess.Validate(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	st := toStored(sess)
	blob, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	now := s.now()
	life := ttl(sess.Deadline(), now)
	ok, err := s.c.SetNX(ctx, s.key(sess.ID), blob, life).Result()
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if !ok {
		return auth.ErrSessionExists
	}
	uk := s.userKey(sess.UserID)
	pipe := s.c.TxPipeline()
	pipe.SAdd(ctx, uk, auth.HashSecret(sess.ID))
	pipe.PExpire(ctx, uk, ttl(sess.ExpiresAt, now))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("create session: index by user: %w", err)
	}
	return nil
}

func (s *SessionStore) load(ctx context.Context, id string) (storedSession, error) {
	blob, err := s.c.Get(ctx, s.key(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return storedSession{}, auth.ErrNoSession
	}
	if err != nil {
		return storedSession{}, fmt.Errorf("get session: %w", err)
	}
	var st storedSession
	if err := json.Unmarshal(blob, &st); err != nil {
		return storedSession{}, fmt.Errorf("get session: decode: %w", err)
	}
	return st, nil
}

// Get implements auth.SessionStore.
func (s *SessionStore) Get(ctx context.Context, id string) (auth.Session, error) {
	if id == "" {
		return auth.Session{}, auth.ErrNoSession
	}
	st, err := s.load(ctx, id)
	if err != nil {
		return auth.Session{}, err
	}
	sess := st.session(id)
	if !sess.Active(s.now()) {
		return auth.Session{}, auth.ErrNoSession
	}
	return sess, nil
}

// Touch implements auth.SessionStore. It rewrites the session only if it
// still exists (SET XX), so a concurrent logout is never undone.
func (s *SessionStore) Touch(ctx context.Context, id string, now time.Time) error {
	if id == "" {
		return auth.ErrNoSession
	}
	st, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	sess := st.session(id)
	if !sess.Active(now) {
		return auth.ErrNoSession
	}
	if now.After(sess.LastSeen) {
		sess.LastSeen = now.UTC()
	}
	blob, err := json.Marshal(toStored(sess))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	ok, err := s.c.SetXX(ctx, s.key(id), blob, ttl(sess.Deadline(), s.now())).Result()
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if !ok {
		return auth.ErrNoSession
	}
	return nil
}

// Delete implements auth.SessionStore.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	st, err := s.load(ctx, id)
	if errors.Is(err, auth.ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	pipe := s.c.TxPipeline()
	pipe.Del(ctx, s.key(id))
	pipe.SRem(ctx, s.userKey(st.UserID), auth.HashSecret(id))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUser implements auth.SessionStore.
func (s *SessionStore) DeleteUser(ctx context.Context, userID string) error {
	uk := s.userKey(userID)
	hashes, err := s.c.SMembers(ctx, uk).Result()
	if err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	keys := []string{uk}
	for _, h := range hashes {
		keys = append(keys, s.prefix+"session:"+h)
	}
	if err := s.c.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return nil
}

// Limiter is auth.Limiter on Redis: failures are counted across every hub
// instance sharing the server.
type Limiter struct {
	c      goredis.UniversalClient
	prefix string
	policy auth.LimitPolicy
	now    func() time.Time
}

// NewLimiter returns a limiter applying policy; prefix "" means
// DefaultPrefix, now nil means time.Now.
func NewLimiter(client goredis.UniversalClient, prefix string, policy auth.LimitPolicy, now func() time.Time) *Limiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{c: client, prefix: prefix, policy: policy, now: now}
}

func (l *Limiter) key(k string) string { return l.prefix + "limit:" + k }

func (l *Limiter) state(ctx context.Context, r goredis.Cmdable, key string) (auth.LimitState, error) {
	blob, err := r.Get(ctx, l.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return auth.LimitState{}, nil
	}
	if err != nil {
		return auth.LimitState{}, fmt.Errorf("limiter %s: %w", key, err)
	}
	var s auth.LimitState
	if err := json.Unmarshal(blob, &s); err != nil {
		return auth.LimitState{}, fmt.Errorf("limiter %s: decode: %w", key, err)
	}
	return s, nil
}

// Allow implements auth.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	s, err := l.state(ctx, l.c, key)
	if err != nil {
		return false, 0, err
	}
	ok, wait := l.policy.Allow(s, l.now())
	return ok, wait, nil
}

// Fail implements auth.Limiter: read, apply the policy and write back in an
// optimistic transaction (WATCH), retried when another instance got there
// first, so concurrent failures are all counted.
func (l *Limiter) Fail(ctx context.Context, key string) error {
	_, _, err := l.update(ctx, key, func(s auth.LimitState, now time.Time) (auth.LimitState, bool, time.Duration) {
		return l.policy.Fail(s, now), true, 0
	})
	if err != nil {
		return fmt.Errorf("limiter fail %s: %w", key, err)
	}
	return nil
}

// Take implements auth.Limiter in the same optimistic transaction as
// Fail: the check and the count are one WATCH/MULTI, so two instances
// cannot both pass the last allowed attempt.
func (l *Limiter) Take(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, after, err := l.update(ctx, key, l.policy.Take)
	if err != nil {
		return false, 0, fmt.Errorf("limiter take %s: %w", key, err)
	}
	return ok, after, nil
}

// update applies f to key's state in a WATCH transaction, writing it back
// only when f allowed the attempt, and retries (with a short random pause,
// so that a burst on one key does not retry in lockstep) when another
// client changed the key first.
func (l *Limiter) update(ctx context.Context, key string, f func(auth.LimitState, time.Time) (auth.LimitState, bool, time.Duration)) (bool, time.Duration, error) {
	k := l.key(key)
	for attempt := 0; attempt < 100; attempt++ {
		var (
			ok    bool
			after time.Duration
		)
		err := l.c.Watch(ctx, func(tx *goredis.Tx) error {
			s, err := l.state(ctx, tx, key)
			if err != nil {
				return err
			}
			now := l.now()
			s, ok, after = f(s, now)
			if !ok {
				return nil
			}
			blob, err := json.Marshal(s)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.Set(ctx, k, blob, ttl(l.policy.ForgetAt(s), now))
				return nil
			})
			return err
		}, k)
		if errors.Is(err, goredis.TxFailedErr) {
			select {
			case <-time.After(time.Duration(rand.IntN(2000)) * time.Microsecond):
			case <-ctx.Done():
				return false, 0, ctx.Err()
			}
			continue
		}
		if err != nil {
			return false, 0, err
		}
		return ok, after, nil
	}
	return false, 0, errors.New("too much contention")
}

// Reset implements auth.Limiter.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.c.Del(ctx, l.key(key)).Err(); err != nil {
		return fmt.Errorf("limiter reset %s: %w", key, err)
	}
	return nil
}
