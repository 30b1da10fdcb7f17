package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
)

func TestSessionStore(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) auth.SessionStore {
		return memory.NewSessionStore(now)
	})
}

func TestTokenStore(t *testing.T) {
	sessiontest.RunTokenStore(t, func(t *testing.T, now func() time.Time) auth.TokenStore {
		return memory.NewTokenStore(now)
	})
}

func TestLimiter(t *testing.T) {
	sessiontest.RunLimiter(t, func(t *testing.T, p auth.LimitPolicy, now func() time.Time) auth.Limiter {
		return memory.NewLimiter(p, now)
	})
}

func TestLimiterForgetsQuietKeys(t *testing.T) {
	c := sessiontest.NewClock()
	l := memory.NewLimiter(auth.LimitPolicy{}, c.Now)
	ctx := context.Background()
	for i := range 1000 {
		if err := l.Fail(ctx, fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256)); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(auth.DefaultLimitPolicy.Window)
	for i := range 256 {
		if err := l.Fail(ctx, fmt.Sprintf("user:u%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := l.Len(), 256; got != want {
		t.Fatalf("keys held: got %d, want %d", got, want)
	}
}

func TestSessionStorePrunesExpiredOnCreate(t *testing.T) {
	c := sessiontest.NewClock()
	s := memory.NewSessionStore(c.Now)
	ctx := context.Background()
	old, _ := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Viewer, c.Now())
	if err := s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	c.Advance(auth.DefaultIdleTimeout)
	fresh, _ := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Viewer, c.Now())
	if err := s.Create(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	// The expired session must not come back even if the clock were wrong.
	if err := s.Touch(ctx, old.ID, old.CreatedAt); err == nil {
		t.Fatal("touch of a pruned session succeeded")
	}
}
