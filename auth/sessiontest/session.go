package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

// NewSessionStore makes a fresh, empty store for one subtest, judging expiry
// by now. It should register its own cleanup with t.Cleanup.
type NewSessionStore func(t *testing.T, now func() time.Time) auth.SessionStore

// Run runs the auth.SessionStore contract against stores made by newStore.
func Run(t *testing.T, newStore NewSessionStore) {
	setup := func(t *testing.T) (context.Context, *Clock, auth.SessionStore) {
		t.Helper()
		t.Parallel()
		c := NewClock()
		return context.Background(), c, newStore(t, c.Now)
	}

	t.Run("create then get returns the session", func(t *testing.T) {
		ctx, c, s := setup(t)
		want := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, want)
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		sameSession(t, got, want)
	})

	t.Run("times come back in UTC and equal", func(t *testing.T) {
		ctx, c, s := setup(t)
		loc := time.FixedZone("CLT", -3*3600)
		want := newSession(t, c.Now().Add(123456789), "u1", auth.Viewer)
		want.CreatedAt, want.LastSeen, want.ExpiresAt = want.CreatedAt.In(loc), want.LastSeen.In(loc), want.ExpiresAt.In(loc)
		mustCreate(t, s, want)
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		sameSession(t, got, want)
		if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("got locations %v, %v, want UTC", got.CreatedAt.Location(), got.ExpiresAt.Location())
		}
	})

	t.Run("unknown session is ErrNoSession", func(t *testing.T) {
		ctx, _, s := setup(t)
		id, _ := auth.NewSessionID()
		for _, id := range []string{id, "", "not-a-session"} {
			if _, err := s.Get(ctx, id); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("get %q: got %v, want ErrNoSession", id, err)
			}
		}
	})

	t.Run("duplicate ID is ErrSessionExists and keeps the first", func(t *testing.T) {
		ctx, c, s := setup(t)
		first := newSession(t, c.Now(), "u1", auth.Admin)
		mustCreate(t, s, first)
		second := first
		second.UserID, second.Role = "u2", auth.Viewer
		if err := s.Create(ctx, second); !errors.Is(err, auth.ErrSessionExists) {
			t.Fatalf("second create: got %v, want ErrSessionExists", err)
		}
		got, err := s.Get(ctx, first.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		sameSession(t, got, first)
	})

	t.Run("invalid session is ErrInvalidSession", func(t *testing.T) {
		ctx, c, s := setup(t)
		base := newSession(t, c.Now(), "u1", auth.Operator)
		cases := map[string]func(*auth.Session){
			"empty id":       func(s *auth.Session) { s.ID = "" },
			"empty user":     func(s *auth.Session) { s.UserID = "" },
			"unknown role":   func(s *auth.Session) { s.Role = "root" },
			"zero idle":      func(s *auth.Session) { s.IdleTimeout = 0 },
			"zero created":   func(s *auth.Session) { s.CreatedAt = time.Time{} },
			"expires before": func(s *auth.Session) { s.ExpiresAt = s.CreatedAt.Add(-time.Second) },
		}
		for name, mutate := range cases {
			sess := base
			mutate(&sess)
			if err := s.Create(ctx, sess); !errors.Is(err, auth.ErrInvalidSession) {
				t.Errorf("%s: got %v, want ErrInvalidSession", name, err)
			}
		}
	})

	t.Run("idle session expires at its idle deadline", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		c.Advance(auth.DefaultIdleTimeout - time.Nanosecond)
		if _, err := s.Get(ctx, sess.ID); err != nil {
			t.Fatalf("get just before idle deadline: %v", err)
		}
		c.Advance(time.Nanosecond)
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("get at idle deadline: got %v, want ErrNoSession", err)
		}
	})

	t.Run("touch slides the idle deadline", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		for range 3 {
			now := c.Advance(10 * time.Hour)
			if err := s.Touch(ctx, sess.ID, now); err != nil {
				t.Fatalf("touch at %v: %v", now, err)
			}
		}
		got, err := s.Get(ctx, sess.ID)
		if err != nil {
			t.Fatalf("get after 30 h of activity: %v", err)
		}
		if want := c.Now(); !got.LastSeen.Equal(want) {
			t.Errorf("last seen: got %v, want %v", got.LastSeen, want)
		}
		c.Advance(auth.DefaultIdleTimeout)
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("get after idle: got %v, want ErrNoSession", err)
		}
	})

	t.Run("touch never goes past the absolute expiry", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		for c.Now().Add(time.Hour).Before(sess.ExpiresAt) {
			if err := s.Touch(ctx, sess.ID, c.Advance(time.Hour)); err != nil {
				t.Fatalf("touch at %v: %v", c.Now(), err)
			}
		}
		c.Advance(sess.ExpiresAt.Sub(c.Now()))
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("get at absolute expiry: got %v, want ErrNoSession", err)
		}
		if err := s.Touch(ctx, sess.ID, c.Now()); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("touch at absolute expiry: got %v, want ErrNoSession", err)
		}
	})

	t.Run("touch of an expired session does not revive it", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		now := c.Advance(auth.DefaultIdleTimeout + time.Minute)
		if err := s.Touch(ctx, sess.ID, now); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("touch: got %v, want ErrNoSession", err)
		}
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("get: got %v, want ErrNoSession", err)
		}
	})

	t.Run("touch with an older time does not move last seen back", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		later := c.Advance(time.Hour)
		if err := s.Touch(ctx, sess.ID, later); err != nil {
			t.Fatalf("touch: %v", err)
		}
		if err := s.Touch(ctx, sess.ID, later.Add(-30*time.Minute)); err != nil {
			t.Fatalf("touch older: %v", err)
		}
		got, err := s.Get(ctx, sess.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if !got.LastSeen.Equal(later) {
			t.Errorf("last seen: got %v, want %v", got.LastSeen, later)
		}
	})

	t.Run("touch of unknown session is ErrNoSession", func(t *testing.T) {
		ctx, c, s := setup(t)
		id, _ := auth.NewSessionID()
		if err := s.Touch(ctx, id, c.Now()); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("got %v, want ErrNoSession", err)
		}
	})

	t.Run("delete ends the session and is idempotent", func(t *testing.T) {
		ctx, c, s := setup(t)
		sess := newSession(t, c.Now(), "u1", auth.Operator)
		other := newSession(t, c.Now(), "u1", auth.Operator)
		mustCreate(t, s, sess)
		mustCreate(t, s, other)
		for i := range 2 {
			if err := s.Delete(ctx, sess.ID); err != nil {
				t.Fatalf("delete #%d: %v", i+1, err)
			}
		}
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("get deleted: got %v, want ErrNoSession", err)
		}
		if _, err := s.Get(ctx, other.ID); err != nil {
			t.Fatalf("get other: %v", err)
		}
		if err := s.Delete(ctx, "never-existed"); err != nil {
			t.Fatalf("delete unknown: %v", err)
		}
	})

	t.Run("delete user ends all of that user's sessions only", func(t *testing.T) {
		ctx, c, s := setup(t)
		var mine []auth.Session
		for range 3 {
			sess := newSession(t, c.Now(), "u1", auth.Operator)
			mustCreate(t, s, sess)
			mine = append(mine, sess)
		}
		theirs := newSession(t, c.Now(), "u2", auth.Operator)
		mustCreate(t, s, theirs)
		if err := s.DeleteUser(ctx, "u1"); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		for _, sess := range mine {
			if _, err := s.Get(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("get u1 session: got %v, want ErrNoSession", err)
			}
		}
		if _, err := s.Get(ctx, theirs.ID); err != nil {
			t.Errorf("get u2 session: %v", err)
		}
		if err := s.DeleteUser(ctx, "nobody"); err != nil {
			t.Errorf("delete unknown user: %v", err)
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		ctx, c, s := setup(t)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 8 {
			user := fmt.Sprintf("u%d", w) // one user per worker: DeleteUser must not race its own Creates
			var batch []auth.Session
			for range 5 {
				batch = append(batch, newSession(t, c.Now(), user, auth.Operator))
			}
			wg.Go(func() {
				for _, sess := range batch {
					if err := s.Create(ctx, sess); err != nil {
						errs <- err
						return
					}
					if err := s.Touch(ctx, sess.ID, c.Now()); err != nil {
						errs <- err
						return
					}
					if _, err := s.Get(ctx, sess.ID); err != nil {
						errs <- err
						return
					}
				}
				if err := s.DeleteUser(ctx, user); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// newSession returns a valid session with a fresh ID and default lifetimes.
func newSession(tb testing.TB, now time.Time, userID string, role auth.Role) auth.Session {
	tb.Helper()
	s, err := auth.SessionPolicy{}.NewSession(userID, "name-"+userID, role, now)
	if err != nil {
		tb.Fatalf("new session: %v", err)
	}
	return s
}

func mustCreate(tb testing.TB, s auth.SessionStore, sess auth.Session) {
	tb.Helper()
	if err := s.Create(context.Background(), sess); err != nil {
		tb.Fatalf("create session: %v", err)
	}
}

func sameSession(tb testing.TB, got, want auth.Session) {
	tb.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Username != want.Username ||
		got.Role != want.Role || got.IdleTimeout != want.IdleTimeout ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LastSeen.Equal(want.LastSeen) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) {
		tb.Errorf("got %+v, want %+v", got, want)
	}
}
