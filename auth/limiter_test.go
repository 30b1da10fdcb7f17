package auth_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

func TestLimitPolicyLockouts(t *testing.T) {
	t0 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		failures int
		want     time.Duration // lockout after that many quick failures
	}{
		{1, 0}, {4, 0},
		{5, 30 * time.Second},
		{6, time.Minute},
		{7, 2 * time.Minute},
		{8, 4 * time.Minute},
		{9, 8 * time.Minute},
		{10, 15 * time.Minute},
		{50, 15 * time.Minute},
		{200, 15 * time.Minute},
	}
	p := auth.LimitPolicy{} // zero: defaults
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.failures), func(t *testing.T) {
			var s auth.LimitState
			for range tc.failures {
				s = p.Fail(s, t0)
			}
			ok, after := p.Allow(s, t0)
			if ok != (tc.want == 0) || after != tc.want {
				t.Errorf("got %v, %v; want lockout %v", ok, after, tc.want)
			}
		})
	}
}

func TestLimitPolicyForgetAt(t *testing.T) {
	t0 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	p := auth.DefaultLimitPolicy
	s := p.Fail(auth.LimitState{}, t0)
	if got, want := p.ForgetAt(s), t0.Add(p.Window); !got.Equal(want) {
		t.Errorf("after one failure: got %v, want %v", got, want)
	}
	for range 4 {
		s = p.Fail(s, t0)
	}
	if got, want := p.ForgetAt(s), t0.Add(p.BaseLockout+p.Window); !got.Equal(want) {
		t.Errorf("after a lockout: got %v, want %v", got, want)
	}
}

func TestLimitPolicyHugeLockoutDoesNotOverflow(t *testing.T) {
	p := auth.LimitPolicy{MaxFailures: 1, Window: time.Hour, BaseLockout: time.Duration(1 << 62), MaxLockout: time.Duration(1<<63 - 1)}
	t0 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	var s auth.LimitState
	for range 5 {
		s = p.Fail(s, t0)
		if ok, after := p.Allow(s, t0); ok || after <= 0 {
			t.Fatalf("got %v, %v; want locked", ok, after)
		}
	}
}

func TestThrottledError(t *testing.T) {
	var err error = fmt.Errorf("login: %w", &auth.ThrottledError{RetryAfter: 30 * time.Second})
	if !errors.Is(err, auth.ErrThrottled) {
		t.Error("does not match ErrThrottled")
	}
	var te *auth.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 30*time.Second {
		t.Errorf("got %v, want RetryAfter 30s", te)
	}
}
