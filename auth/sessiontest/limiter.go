package sessiontest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

// NewLimiter makes a fresh limiter for one subtest, applying policy at
// clock now. It should register its own cleanup.
type NewLimiter func(t *testing.T, policy auth.LimitPolicy, now func() time.Time) auth.Limiter

// RunLimiter runs the auth.Limiter contract against limiters made by
// newLimiter, under auth.DefaultLimitPolicy (5 failures in 15 minutes; 30 s
// doubling to 15 minutes).
func RunLimiter(t *testing.T, newLimiter NewLimiter) {
	p := auth.DefaultLimitPolicy
	setup := func(t *testing.T) (*Clock, *limiterCheck) {
		t.Helper()
		t.Parallel()
		c := NewClock()
		return c, &limiterCheck{t: t, l: newLimiter(t, p, c.Now)}
	}

	t.Run("fresh key is allowed", func(t *testing.T) {
		_, l := setup(t)
		l.allowed("user:ana")
	})

	t.Run("the fifth failure locks for the base lockout", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures - 1 {
			l.fail("user:ana")
			c.Advance(time.Second)
		}
		l.allowed("user:ana")
		l.fail("user:ana")
		l.refused("user:ana", p.BaseLockout)
		c.Advance(p.BaseLockout - time.Second)
		l.refused("user:ana", time.Second)
		c.Advance(time.Second)
		l.allowed("user:ana")
	})

	t.Run("each further failure doubles the lockout up to the cap", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures - 1 {
			l.fail("ip:10.0.0.7")
		}
		want := p.BaseLockout
		for range 8 {
			l.fail("ip:10.0.0.7")
			l.refused("ip:10.0.0.7", want)
			c.Advance(want)
			l.allowed("ip:10.0.0.7")
			want = min(2*want, p.MaxLockout)
		}
		if want != p.MaxLockout {
			t.Fatalf("test never reached the cap: %v", want)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		_, l := setup(t)
		for range p.MaxFailures {
			l.fail("user:ana")
		}
		l.refused("user:ana", p.BaseLockout)
		l.allowed("user:bruno")
		l.allowed("ip:10.0.0.7")
	})

	t.Run("reset forgets failures and lockouts", func(t *testing.T) {
		_, l := setup(t)
		for range p.MaxFailures {
			l.fail("user:ana")
		}
		l.refused("user:ana", p.BaseLockout)
		if err := l.l.Reset(context.Background(), "user:ana"); err != nil {
			t.Fatalf("reset: %v", err)
		}
		l.allowed("user:ana")
		for range p.MaxFailures - 1 {
			l.fail("user:ana")
		}
		l.allowed("user:ana")
		if err := l.l.Reset(context.Background(), "user:nobody"); err != nil {
			t.Fatalf("reset unknown: %v", err)
		}
	})

	t.Run("failures older than the window are forgotten", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures - 1 {
			l.fail("user:ana")
		}
		c.Advance(p.Window)
		l.fail("user:ana")
		l.allowed("user:ana")
	})

	t.Run("failures within the window add up", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures - 1 {
			l.fail("user:ana")
			c.Advance(p.Window / time.Duration(p.MaxFailures))
		}
		l.fail("user:ana")
		l.refused("user:ana", p.BaseLockout)
	})

	t.Run("escalation persists until a quiet window after the lockout", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures {
			l.fail("user:ana")
		}
		c.Advance(p.BaseLockout + p.Window - time.Second)
		l.fail("user:ana")
		l.refused("user:ana", 2*p.BaseLockout)
		c.Advance(2*p.BaseLockout + p.Window)
		l.fail("user:ana")
		l.allowed("user:ana")
	})

	t.Run("concurrent failures all count", func(t *testing.T) {
		_, l := setup(t)
		var wg sync.WaitGroup
		errs := make(chan error, p.MaxFailures)
		for range p.MaxFailures {
			wg.Go(func() {
				if err := l.l.Fail(context.Background(), "user:ana"); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		l.refused("user:ana", p.BaseLockout)
	})

	t.Run("take counts before the attempt and refuses without counting", func(t *testing.T) {
		c, l := setup(t)
		for range p.MaxFailures {
			l.take("user:ana", true)
		}
		l.refused("user:ana", p.BaseLockout)
		l.take("user:ana", false)
		l.refused("user:ana", p.BaseLockout)
		c.Advance(p.BaseLockout)
		l.take("user:ana", true)
		l.refused("user:ana", 2*p.BaseLockout)
	})

	// The attack of issue 14: 40 guesses sent at once used to all be
	// checked before any was counted.
	t.Run("concurrent takes pass at most the threshold", func(t *testing.T) {
		_, l := setup(t)
		const n = 40
		var wg sync.WaitGroup
		passed := make(chan bool, n)
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				ok, _, err := l.l.Take(context.Background(), "user:admin")
				if err != nil {
					errs <- err
				}
				passed <- ok
			})
		}
		wg.Wait()
		close(errs)
		close(passed)
		for err := range errs {
			t.Fatal(err)
		}
		got := 0
		for ok := range passed {
			if ok {
				got++
			}
		}
		if got != p.MaxFailures {
			t.Fatalf("takes passed: got %d, want %d", got, p.MaxFailures)
		}
		l.refused("user:admin", p.BaseLockout)
	})
}

type limiterCheck struct {
	t *testing.T
	l auth.Limiter
}

func (c *limiterCheck) fail(key string) {
	c.t.Helper()
	if err := c.l.Fail(context.Background(), key); err != nil {
		c.t.Fatalf("fail %s: %v", key, err)
	}
}

func (c *limiterCheck) take(key string, want bool) {
	c.t.Helper()
	ok, _, err := c.l.Take(context.Background(), key)
	if err != nil || ok != want {
		c.t.Fatalf("take %s: got %v, %v; want %v, nil", key, ok, err, want)
	}
}

func (c *limiterCheck) allowed(key string) {
	c.t.Helper()
	ok, after, err := c.l.Allow(context.Background(), key)
	if err != nil || !ok || after != 0 {
		c.t.Fatalf("allow %s: got %v, %v, %v; want true, 0, nil", key, ok, after, err)
	}
}

func (c *limiterCheck) refused(key string, retryAfter time.Duration) {
	c.t.Helper()
	ok, after, err := c.l.Allow(context.Background(), key)
	if err != nil || ok || after != retryAfter {
		c.t.Fatalf("allow %s: got %v, %v, %v; want false, %v, nil", key, ok, after, err, retryAfter)
	}
}
