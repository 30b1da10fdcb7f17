package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

func TestNewSessionID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := auth.NewSessionID()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 32 {
			t.Fatalf("id %q: got %d bytes, %v; want 32 bytes of base64url", id, len(b), err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestHashSecret(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 test vector.
	if got, want := auth.HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := auth.SessionRef("abc"); got != "ba7816bf8f01cfea" {
		t.Errorf("ref: got %s", got)
	}
}

func TestSessionPolicy(t *testing.T) {
	now := time.Date(2026, 2, 3, 8, 0, 0, 0, time.FixedZone("CLT", -3*3600))
	cases := []struct {
		name      string
		p         auth.SessionPolicy
		idle, max time.Duration
	}{
		{"defaults", auth.SessionPolicy{}, 12 * time.Hour, 7 * 24 * time.Hour},
		{"custom", auth.SessionPolicy{IdleTimeout: time.Hour, MaxLifetime: 24 * time.Hour}, time.Hour, 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.p.NewSession("u1", "ana", auth.Operator, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("new session invalid: %v", err)
			}
			if s.IdleTimeout != tc.idle || !s.ExpiresAt.Equal(now.Add(tc.max)) || !s.LastSeen.Equal(now) || s.CreatedAt.Location() != time.UTC {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestSessionActive(t *testing.T) {
	t0 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	s := auth.Session{LastSeen: t0, IdleTimeout: time.Hour, ExpiresAt: t0.Add(90 * time.Minute)}
	cases := []struct {
		name string
		s    auth.Session
		at   time.Time
		want bool
	}{
		{"fresh", s, t0, true},
		{"just before idle deadline", s, t0.Add(time.Hour - 1), true},
		{"at idle deadline", s, t0.Add(time.Hour), false},
		{"touched, before absolute", withLastSeen(s, t0.Add(time.Hour)), t0.Add(90*time.Minute - 1), true},
		{"touched, at absolute", withLastSeen(s, t0.Add(time.Hour)), t0.Add(90 * time.Minute), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Active(tc.at); got != tc.want {
				t.Errorf("got %v, want %v (deadline %v)", got, tc.want, tc.s.Deadline())
			}
		})
	}
}

func withLastSeen(s auth.Session, t time.Time) auth.Session { s.LastSeen = t; return s }

func TestSessionValidate(t *testing.T) {
	s, _ := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Admin, time.Now())
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Role = "root"
	if err := s.Validate(); !errors.Is(err, auth.ErrInvalidSession) {
		t.Errorf("got %v, want ErrInvalidSession", err)
	}
}

func TestNewTokenSecret(t *testing.T) {
	plain, hash, err := auth.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "vgt_") || !auth.LooksLikeToken(plain) || hash != auth.HashSecret(plain) {
		t.Errorf("got %q, %q", plain, hash)
	}
	for _, s := range []string{"", "vgt_", "vgt_short", plain[4:], "xgt_" + plain[4:], plain + "x", plain[:len(plain)-1] + "="} {
		if auth.LooksLikeToken(s) {
			t.Errorf("%q looks like a token", s)
		}
	}
}

func TestTokenActive(t *testing.T) {
	t0 := time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)
	old := auth.Token{CreatedAt: t0}
	if !old.Active(t0.Add(auth.DefaultTokenLifetime-1)) || old.Active(t0.Add(auth.DefaultTokenLifetime)) {
		t.Error("token stored without expiry: want the default lifetime from its creation")
	}
	tok := auth.Token{ExpiresAt: t0}
	if !tok.Active(t0.Add(-1)) || tok.Active(t0) {
		t.Error("expiry boundary wrong")
	}
}
