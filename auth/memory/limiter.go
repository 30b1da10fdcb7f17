package memory

import (
	"context"
	"sync"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

var _ auth.Limiter = (*Limiter)(nil)

// sweepEvery is how many Fail calls pass between sweeps of forgotten keys,
// which bounds memory under a spray of usernames or addresses.
const sweepEvery = 256

// Limiter is an in-memory auth.Limiter. Its state is per process, so it
// only throttles correctly with a single hub instance; a fleet needs the
// shared (Redis) adapter.
type Limiter struct {
	policy auth.LimitPolicy
	now    func() time.Time

	mu    sync.Mutex
	keys  map[string]auth.LimitState
	fails int
}

// NewLimiter returns a limiter applying policy (zero fields: defaults from
// auth.DefaultLimitPolicy) at clock now (nil: time.Now).
func NewLimiter(policy auth.LimitPolicy, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{policy: policy, now: now, keys: make(map[string]auth.LimitState)}
}

// Allow implements auth.Limiter.
func (l *Limiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok, after := l.policy.Allow(l.keys[key], l.now())
	return ok, after, nil
}

// Fail implements auth.Limiter.
func (l *Limiter) Fail(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail(key, l.now())
	return nil
}

// Take implements auth.Limiter under the one mutex.
func (l *Limiter) Take(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if ok, after := l.policy.Allow(l.keys[key], now); !ok {
		return false, after, nil
	}
	l.fail(key, now)
	return true, 0, nil
}

// fail counts one failure; l.mu is held.
func (l *Limiter) fail(key string, now time.Time) {
	l.keys[key] = l.policy.Fail(l.keys[key], now)
	if l.fails++; l.fails%sweepEvery == 0 {
		for k, s := range l.keys {
			if !now.Before(l.policy.ForgetAt(s)) {
				delete(l.keys, k)
			}
		}
	}
}

// Reset implements auth.Limiter.
func (l *Limiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
	return nil
}

// Len returns the number of keys held, for tests of the sweep.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
