package sessiontest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

// NewTokenStore makes a fresh, empty store for one subtest, using clock now
// for CreatedAt and expiry. It should register its own cleanup.
type NewTokenStore func(t *testing.T, now func() time.Time) auth.TokenStore

// RunTokenStore runs the auth.TokenStore contract against stores made by
// newStore.
func RunTokenStore(t *testing.T, newStore NewTokenStore) {
	setup := func(t *testing.T) (context.Context, *Clock, auth.TokenStore) {
		t.Helper()
		t.Parallel()
		c := NewClock()
		return context.Background(), c, newStore(t, c.Now)
	}

	t.Run("create returns a prefixed secret once and lookup finds the token", func(t *testing.T) {
		ctx, c, s := setup(t)
		exp := c.Now().Add(30 * 24 * time.Hour)
		tok, plain, err := s.Create(ctx, auth.Token{Name: "muro-sala-1", Role: auth.Display, CreatedBy: "u1", ExpiresAt: exp})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if !strings.HasPrefix(plain, auth.TokenPrefix) || !auth.LooksLikeToken(plain) {
			t.Errorf("plaintext %q does not look like a token", plain)
		}
		if tok.ID == "" || strings.Contains(plain, tok.ID) {
			t.Errorf("token ID %q: want non-empty and unrelated to the secret", tok.ID)
		}
		want := auth.Token{ID: tok.ID, Name: "muro-sala-1", Role: auth.Display, CreatedBy: "u1", CreatedAt: c.Now(), ExpiresAt: exp}
		sameToken(t, tok, want)
		got, err := s.Lookup(ctx, plain)
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		sameToken(t, got, want)
	})

	t.Run("each token gets its own ID and secret", func(t *testing.T) {
		ctx, _, s := setup(t)
		a, pa := mustCreateToken(t, s, auth.Token{Name: "same", Role: auth.Viewer, CreatedBy: "u1"})
		b, pb := mustCreateToken(t, s, auth.Token{Name: "same", Role: auth.Viewer, CreatedBy: "u1"})
		if a.ID == b.ID || pa == pb {
			t.Fatalf("got IDs %q, %q and equal secrets %v; want distinct", a.ID, b.ID, pa == pb)
		}
		for _, p := range []string{pa, pb} {
			if _, err := s.Lookup(ctx, p); err != nil {
				t.Errorf("lookup: %v", err)
			}
		}
	})

	t.Run("unknown or malformed secrets are ErrNoToken", func(t *testing.T) {
		ctx, _, s := setup(t)
		_, plain := mustCreateToken(t, s, auth.Token{Name: "x", Role: auth.Viewer, CreatedBy: "u1"})
		other, _, _ := auth.NewTokenSecret()
		for _, p := range []string{"", "vgt_", other, plain[:len(plain)-1], plain + "A", strings.TrimPrefix(plain, auth.TokenPrefix), strings.ToUpper(plain)} {
			if _, err := s.Lookup(ctx, p); !errors.Is(err, auth.ErrNoToken) {
				t.Errorf("lookup %q: got %v, want ErrNoToken", p, err)
			}
		}
	})

	t.Run("invalid tokens are refused", func(t *testing.T) {
		ctx, _, s := setup(t)
		cases := []struct {
			name string
			tok  auth.Token
			want error
		}{
			{"unknown role", auth.Token{Name: "x", Role: "root", CreatedBy: "u1"}, auth.ErrUnknownRole},
			{"empty name", auth.Token{Name: "  ", Role: auth.Viewer, CreatedBy: "u1"}, auth.ErrInvalidToken},
			{"long name", auth.Token{Name: strings.Repeat("n", auth.MaxTokenNameLen+1), Role: auth.Viewer, CreatedBy: "u1"}, auth.ErrInvalidToken},
			{"no creator", auth.Token{Name: "x", Role: auth.Viewer}, auth.ErrInvalidToken},
		}
		for _, tc := range cases {
			if _, _, err := s.Create(ctx, tc.tok); !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}
		if list, err := s.List(ctx); err != nil || len(list) != 0 {
			t.Errorf("list: got %v, %v; want empty", list, err)
		}
	})

	t.Run("expired token is gone from lookup and list", func(t *testing.T) {
		ctx, c, s := setup(t)
		tok, plain := mustCreateToken(t, s, auth.Token{Name: "script", Role: auth.Operator, CreatedBy: "u1", ExpiresAt: c.Now().Add(time.Hour)})
		c.Advance(time.Hour - time.Nanosecond)
		if _, err := s.Lookup(ctx, plain); err != nil {
			t.Fatalf("lookup before expiry: %v", err)
		}
		c.Advance(time.Nanosecond)
		if _, err := s.Lookup(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
			t.Fatalf("lookup at expiry: got %v, want ErrNoToken", err)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, got := range list {
			if got.ID == tok.ID {
				t.Errorf("expired token %s still listed", tok.ID)
			}
		}
	})

	t.Run("token without expiry gets the default lifetime", func(t *testing.T) {
		ctx, c, s := setup(t)
		tok, plain := mustCreateToken(t, s, auth.Token{Name: "muro", Role: auth.Display, CreatedBy: "u1"})
		want := c.Now().Add(auth.DefaultTokenLifetime)
		if !tok.ExpiresAt.Equal(want) {
			t.Errorf("created expires at: got %v, want %v", tok.ExpiresAt, want)
		}
		c.Advance(auth.DefaultTokenLifetime - time.Second)
		got, err := s.Lookup(ctx, plain)
		if err != nil {
			t.Fatalf("lookup just before the default expiry: %v", err)
		}
		if !got.ExpiresAt.Equal(want) {
			t.Errorf("looked up expires at: got %v, want %v", got.ExpiresAt, want)
		}
		c.Advance(time.Second)
		if _, err := s.Lookup(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
			t.Errorf("lookup at the default expiry: got %v, want ErrNoToken", err)
		}
	})

	t.Run("creator round-trips through lookup and list", func(t *testing.T) {
		ctx, _, s := setup(t)
		tok, plain := mustCreateToken(t, s, auth.Token{Name: "script", Role: auth.Viewer, CreatedBy: "0193c1a2-user"})
		got, err := s.Lookup(ctx, plain)
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		if got.CreatedBy != "0193c1a2-user" {
			t.Errorf("lookup created by: got %q, want %q", got.CreatedBy, "0193c1a2-user")
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		found := false
		for _, l := range list {
			if l.ID == tok.ID {
				found = true
				if l.CreatedBy != "0193c1a2-user" || !l.ExpiresAt.Equal(tok.ExpiresAt) {
					t.Errorf("listed: got creator %q expiry %v, want %q %v", l.CreatedBy, l.ExpiresAt, "0193c1a2-user", tok.ExpiresAt)
				}
			}
		}
		if !found {
			t.Errorf("token %s not listed", tok.ID)
		}
	})

	t.Run("revoke removes the token; again is ErrNoToken", func(t *testing.T) {
		ctx, _, s := setup(t)
		tok, plain := mustCreateToken(t, s, auth.Token{Name: "x", Role: auth.Viewer, CreatedBy: "u1"})
		keep, keepPlain := mustCreateToken(t, s, auth.Token{Name: "y", Role: auth.Viewer, CreatedBy: "u1"})
		if err := s.Revoke(ctx, tok.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if _, err := s.Lookup(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
			t.Errorf("lookup revoked: got %v, want ErrNoToken", err)
		}
		if err := s.Revoke(ctx, tok.ID); !errors.Is(err, auth.ErrNoToken) {
			t.Errorf("revoke again: got %v, want ErrNoToken", err)
		}
		if err := s.Revoke(ctx, "no-such-id"); !errors.Is(err, auth.ErrNoToken) {
			t.Errorf("revoke unknown: got %v, want ErrNoToken", err)
		}
		if _, err := s.Lookup(ctx, keepPlain); err != nil {
			t.Errorf("lookup kept: %v", err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != keep.ID {
			t.Errorf("list: got %+v, %v; want only %s", list, err, keep.ID)
		}
	})

	t.Run("list is oldest first with all fields", func(t *testing.T) {
		ctx, c, s := setup(t)
		var want []auth.Token
		for _, name := range []string{"c", "a", "b"} {
			tok, _ := mustCreateToken(t, s, auth.Token{Name: name, Role: auth.Supervisor, CreatedBy: "u9", ExpiresAt: c.Now().Add(48 * time.Hour)})
			want = append(want, tok)
			c.Advance(time.Second)
		}
		got, err := s.List(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d tokens, want %d", len(got), len(want))
		}
		for i := range want {
			sameToken(t, got[i], want[i])
		}
	})

	t.Run("empty list is empty, not an error", func(t *testing.T) {
		ctx, _, s := setup(t)
		got, err := s.List(ctx)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want empty", got, err)
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		ctx, _, s := setup(t)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for range 8 {
			wg.Go(func() {
				for range 5 {
					tok, plain, err := s.Create(ctx, auth.Token{Name: "x", Role: auth.Viewer, CreatedBy: "u1"})
					if err == nil {
						_, err = s.Lookup(ctx, plain)
					}
					if err == nil {
						_, err = s.List(ctx)
					}
					if err == nil {
						err = s.Revoke(ctx, tok.ID)
					}
					if err != nil {
						errs <- err
						return
					}
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

func mustCreateToken(tb testing.TB, s auth.TokenStore, t auth.Token) (auth.Token, string) {
	tb.Helper()
	tok, plain, err := s.Create(context.Background(), t)
	if err != nil {
		tb.Fatalf("create token: %v", err)
	}
	return tok, plain
}

func sameToken(tb testing.TB, got, want auth.Token) {
	tb.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Role != want.Role || got.CreatedBy != want.CreatedBy ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		tb.Errorf("got %+v, want %+v", got, want)
	}
}
