package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limiter is the port for throttling failed logins. Keys are opaque
// strings; Service uses "user:<lowercase username>@<client IP>" under the
// strict policy, and "user:<lowercase username>" and "ip:<client IP>" under
// a softer one (ServiceConfig.SoftLimiter), so that one guesser cannot
// spray usernames and one username cannot be guessed from many addresses,
// yet a guesser does not lock the owner out. Adapters: memory (one
// instance) and redis (a fleet). Every adapter passes
// sessiontest.RunLimiter.
//
// Contract: the adapter applies a LimitPolicy to a LimitState per key, at
// its own clock, exactly as LimitPolicy.Fail and LimitPolicy.Allow define;
// state may be forgotten once LimitPolicy.ForgetAt has passed (a Redis
// adapter sets that as the key's expiry). Safe for concurrent use; Fail on
// one key from concurrent callers counts every call.
//
// A Redis adapter keeps LimitState in a hash per key, updates it in a
// WATCH/MULTI transaction with LimitPolicy.Fail (or an equivalent script),
// and sets PEXPIREAT to LimitPolicy.ForgetAt, so forgotten keys vanish on
// their own.
type Limiter interface {
	// Allow reports whether an attempt for key may proceed now, and if
	// not, how long until it may. It does not count as an attempt.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
	// Fail records a failed attempt for key.
	Fail(ctx context.Context, key string) error
	// Take is Allow and, if allowed, Fail, as one atomic step
	// (LimitPolicy.Take): an attempt is counted before it is tried, so
	// that N guesses sent at once pass at most MaxFailures of them, on
	// every instance sharing the adapter. A refused attempt is not
	// counted. A success clears the count with Reset.
	Take(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
	// Reset forgets key's failures and lockouts (after a successful login).
	Reset(ctx context.Context, key string) error
}

// LimitPolicy says when a key is locked out. The zero value means
// DefaultLimitPolicy.
type LimitPolicy struct {
	// MaxFailures within Window lock the key out.
	MaxFailures int
	// Window is how long a key must stay quiet (no failures, not locked)
	// for its failures to be forgotten.
	Window time.Duration
	// BaseLockout is the first lockout; each further failure doubles it.
	BaseLockout time.Duration
	// MaxLockout caps the lockout.
	MaxLockout time.Duration
}

// DefaultLimitPolicy: five failures within 15 minutes lock the key for 30 s,
// then 1, 2, 4, 8 minutes and at most 15 minutes for each further failure.
var DefaultLimitPolicy = LimitPolicy{MaxFailures: 5, Window: 15 * time.Minute, BaseLockout: 30 * time.Second, MaxLockout: 15 * time.Minute}

// SoftLimitPolicy is for Service's per-username and per-address keys
// (ServiceConfig.SoftLimiter): fifty failures within 15 minutes, from any
// number of addresses or for any number of usernames, lock the key, so a
// guesser is bounded without five guesses locking an account's owner out.
var SoftLimitPolicy = LimitPolicy{MaxFailures: 50, Window: 15 * time.Minute, BaseLockout: 30 * time.Second, MaxLockout: 15 * time.Minute}

// ErrThrottled is matched by *ThrottledError.
var ErrThrottled = errors.New("too many failed attempts")

// ThrottledError is returned by Service.Login while a key is locked out.
// The web layer answers 429 with Retry-After (rounded up to seconds).
type ThrottledError struct {
	// RetryAfter is how long until another attempt is allowed.
	RetryAfter time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts, retry after %s", e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// LimitState is what a Limiter keeps per key.
type LimitState struct {
	// Failures counts failures since the key was last forgotten or reset.
	Failures int
	// LastFailure is the time of the latest failure.
	LastFailure time.Time
	// LockedUntil is the end of the current (or latest) lockout; zero if
	// never locked.
	LockedUntil time.Time
}

// withDefaults fills zero fields from DefaultLimitPolicy.
func (p LimitPolicy) withDefaults() LimitPolicy {
	d := DefaultLimitPolicy
	if p.MaxFailures <= 0 {
		p.MaxFailures = d.MaxFailures
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.BaseLockout <= 0 {
		p.BaseLockout = d.BaseLockout
	}
	if p.MaxLockout <= 0 {
		p.MaxLockout = d.MaxLockout
	}
	return p
}

// ForgetAt is when s may be dropped: Window after the later of its last
// failure and the end of its lockout. Until then failures keep counting,
// so a guesser who waits out one lockout meets a longer one.
func (p LimitPolicy) ForgetAt(s LimitState) time.Time {
	p = p.withDefaults()
	last := s.LastFailure
	if s.LockedUntil.After(last) {
		last = s.LockedUntil
	}
	return last.Add(p.Window)
}

// Allow reports whether an attempt may proceed at now under s and, if not,
// the time left until it may.
func (p LimitPolicy) Allow(s LimitState, now time.Time) (bool, time.Duration) {
	if now.Before(s.LockedUntil) {
		return false, s.LockedUntil.Sub(now)
	}
	return true, 0
}

// Take applies Allow and, if allowed, Fail at now: it returns the new
// state (unchanged when refused), whether the attempt may proceed and, if
// not, the time left until it may.
func (p LimitPolicy) Take(s LimitState, now time.Time) (LimitState, bool, time.Duration) {
	if ok, after := p.Allow(s, now); !ok {
		return s, false, after
	}
	return p.Fail(s, now), true, 0
}

// Fail returns s after one more failure at now. The MaxFailures-th
// failure locks the key for BaseLockout, each later one for twice the
// previous lockout, capped at MaxLockout. State past ForgetAt starts over.
func (p LimitPolicy) Fail(s LimitState, now time.Time) LimitState {
	p = p.withDefaults()
	if s.Failures > 0 && !now.Before(p.ForgetAt(s)) {
		s = LimitState{}
	}
	s.Failures++
	s.LastFailure = now
	if over := s.Failures - p.MaxFailures; over >= 0 {
		lock := p.BaseLockout
		for i := 0; i < over && lock < p.MaxLockout; i++ {
			if lock > p.MaxLockout/2 {
				lock = p.MaxLockout
				break
			}
			lock *= 2
		}
		lock = min(lock, p.MaxLockout)
		if until := now.Add(lock); until.After(s.LockedUntil) {
			s.LockedUntil = until
		}
	}
	return s
}
