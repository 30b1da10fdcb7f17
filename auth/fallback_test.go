package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
)

// flaky is a session store that can be made unreachable.
type flaky struct {
	auth.SessionStore
	down bool
}

var errDown = errors.New("connection refused")

func (f *flaky) Get(ctx context.Context, id string) (auth.Session, error) {
	if f.down {
		return auth.Session{}, errDown
	}
	return f.SessionStore.Get(ctx, id)
}

func (f *flaky) Touch(ctx context.Context, id string, now time.Time) error {
	if f.down {
		return errDown
	}
	return f.SessionStore.Touch(ctx, id, now)
}

func TestFallbackSessionsDuringAnOutage(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewClock()
	inner := &flaky{SessionStore: memory.NewSessionStore(clock.Now)}
	f := auth.NewFallbackSessions(inner, 5*time.Minute, clock.Now)
	known, err := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Operator, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := auth.SessionPolicy{}.NewSession("u2", "beto", auth.Operator, clock.Now())
	for _, s := range []auth.Session{known, stranger} {
		if err := f.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Get(ctx, known.ID); err != nil {
		t.Fatal(err)
	}

	inner.down = true
	if got, err := f.Get(ctx, known.ID); err != nil || got.UserID != "u1" {
		t.Fatalf("a session validated before the outage: got %v %v, want it remembered", got, err)
	}
	if err := f.Touch(ctx, known.ID, clock.Now()); err != nil {
		t.Fatalf("touch during the outage: %v", err)
	}
	if _, err := f.Get(ctx, stranger.ID); !errors.Is(err, errDown) {
		t.Fatalf("a session never validated here: got %v, want the store's error", err)
	}
	clock.Advance(6 * time.Minute)
	if _, err := f.Get(ctx, known.ID); !errors.Is(err, errDown) {
		t.Fatalf("after the grace period: got %v, want the store's error", err)
	}

	inner.down = false
	if err := f.Delete(ctx, known.ID); err != nil {
		t.Fatal(err)
	}
	inner.down = true
	if _, err := f.Get(ctx, known.ID); !errors.Is(err, errDown) {
		t.Fatalf("a logged-out session must not be remembered: got %v", err)
	}
}
