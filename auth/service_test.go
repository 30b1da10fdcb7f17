package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
)

// accounts is a fake user read model.
type accounts map[string]auth.Account

func (a accounts) Account(_ context.Context, username string) (auth.Account, error) {
	if username == "explode" {
		return auth.Account{}, errors.New("read model unavailable")
	}
	acct, ok := a[strings.ToLower(username)]
	if !ok {
		return auth.Account{}, auth.ErrNoAccount
	}
	return acct, nil
}

type fixture struct {
	svc      *auth.Service
	clock    *sessiontest.Clock
	sessions *memory.SessionStore
	tokens   *memory.TokenStore
}

const password = "marejadas-2026"

func newFixture(t *testing.T) fixture {
	t.Helper()
	hash := func(pw string) string {
		h, err := auth.TestParams.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	accts := accounts{
		"ana":    {UserID: "u-ana", Username: "ana", Role: auth.Supervisor, PasswordHash: hash(password)},
		"oscar":  {UserID: "u-oscar", Username: "oscar", Role: auth.Operator, PasswordHash: hash(password)},
		"muro":   {UserID: "u-muro", Username: "muro", Role: auth.Display, PasswordHash: hash(password)},
		"baja":   {UserID: "u-baja", Username: "baja", Role: auth.Operator, PasswordHash: hash(password), Disabled: true},
		"rota":   {UserID: "u-rota", Username: "rota", Role: auth.Operator, PasswordHash: "$argon2id$garbage"},
		"admin1": {UserID: "u-admin", Username: "admin1", Role: auth.Admin, PasswordHash: hash(password)},
	}
	c := sessiontest.NewClock()
	f := fixture{clock: c, sessions: memory.NewSessionStore(c.Now), tokens: memory.NewTokenStore(c.Now)}
	svc, err := auth.NewService(auth.ServiceConfig{
		Accounts: accts, Sessions: f.sessions, Tokens: f.tokens,
		Limiter: memory.NewLimiter(auth.LimitPolicy{}, c.Now),
		Params:  auth.TestParams, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func TestNewServiceRequiresPorts(t *testing.T) {
	if _, err := auth.NewService(auth.ServiceConfig{}); err == nil {
		t.Fatal("want error")
	}
}

func TestLogin(t *testing.T) {
	cases := []struct {
		name, user, pw string
		want           error
	}{
		{"right password", "ana", password, nil},
		{"username case and space ignored", " ANA ", password, nil},
		{"wrong password", "ana", "marejadas-2025", auth.ErrInvalidCredentials},
		{"unknown user", "nadie", password, auth.ErrInvalidCredentials},
		{"disabled user", "baja", password, auth.ErrInvalidCredentials},
		{"display user must use a token", "muro", password, auth.ErrTokenOnly},
		{"malformed stored hash", "rota", password, auth.ErrMalformedHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			sess, err := f.svc.Login(context.Background(), tc.user, tc.pw, "10.0.0.7")
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			p, err := f.svc.Authenticate(context.Background(), sess.ID)
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			want := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, SessionID: auth.SessionRef(sess.ID), Kind: auth.KindSession}
			if p != want {
				t.Errorf("got %+v, want %+v", p, want)
			}
		})
	}
}

func TestLoginAccountSourceFailureIsNotACredentialError(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Login(context.Background(), "explode", password, "")
	if err == nil || errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("got %v, want an internal error", err)
	}
}

func TestLoginThrottlesUsername(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 5 {
		// Different addresses: only the username key accumulates.
		ip := "10.0.0." + string(rune('1'+i))
		if _, err := f.svc.Login(ctx, "ana", "wrong-password", ip); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: got %v", i+1, err)
		}
	}
	_, err := f.svc.Login(ctx, "ana", password, "10.0.0.9")
	var te *auth.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 30*time.Second {
		t.Fatalf("right password while locked: got %v, want ThrottledError 30s", err)
	}
	if _, err := f.svc.Login(ctx, "oscar", password, "10.0.0.9"); err != nil {
		t.Fatalf("other user: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := f.svc.Login(ctx, "ana", password, "10.0.0.9"); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
	// Success reset the username: four more failures do not lock it.
	for range 4 {
		f.svc.Login(ctx, "ana", "wrong-password", "10.0.0.10")
	}
	if _, err := f.svc.Login(ctx, "ana", password, "10.0.0.10"); err != nil {
		t.Fatalf("after reset and four failures: %v", err)
	}
}

func TestLoginThrottlesAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, u := range []string{"a1", "a2", "a3", "a4", "ana"} {
		if _, err := f.svc.Login(ctx, u, "wrong-password", "10.9.9.9"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("%s: got %v", u, err)
		}
	}
	if _, err := f.svc.Login(ctx, "oscar", password, "10.9.9.9"); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("sprayed address: got %v, want ErrThrottled", err)
	}
	if _, err := f.svc.Login(ctx, "oscar", password, "10.1.1.1"); err != nil {
		t.Fatalf("other address: %v", err)
	}
}

func TestAuthenticateSlidesAndThrottlesTouches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sess, err := f.svc.Login(ctx, "oscar", password, "")
	if err != nil {
		t.Fatal(err)
	}
	lastSeen := func() time.Time {
		t.Helper()
		s, err := f.sessions.Get(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeen
	}
	f.clock.Advance(30 * time.Second)
	if _, err := f.svc.Authenticate(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen(); !got.Equal(sess.LastSeen) {
		t.Errorf("touched within the touch interval: last seen %v", got)
	}
	for range 3 {
		now := f.clock.Advance(11 * time.Hour)
		if _, err := f.svc.Authenticate(ctx, sess.ID); err != nil {
			t.Fatalf("after 11 h: %v", err)
		}
		if got := lastSeen(); !got.Equal(now) {
			t.Errorf("last seen: got %v, want %v", got, now)
		}
	}
	f.clock.Advance(12 * time.Hour)
	if _, err := f.svc.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after 12 h idle: got %v, want ErrNoSession", err)
	}
}

func TestLogoutAndEndSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.svc.Login(ctx, "oscar", password, "")
	b, _ := f.svc.Login(ctx, "oscar", password, "")
	c, _ := f.svc.Login(ctx, "ana", password, "")
	if err := f.svc.Logout(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, a.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after logout: got %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, b.ID); err != nil {
		t.Errorf("other session: %v", err)
	}
	if err := f.svc.EndSessions(ctx, "u-oscar"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, b.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after end sessions: got %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, c.ID); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, ""); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("empty cookie: got %v", err)
	}
}

func TestCreateToken(t *testing.T) {
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	sup := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, Kind: auth.KindSession}
	op := auth.Principal{UserID: "u-oscar", Username: "oscar", Role: auth.Operator, Kind: auth.KindSession}
	cases := []struct {
		name string
		by   auth.Principal
		role auth.Role
		exp  time.Duration
		want error
	}{
		{"admin mints admin", admin, auth.Admin, 0, nil},
		{"supervisor mints display", sup, auth.Display, 0, nil},
		{"supervisor mints operator for a day", sup, auth.Operator, 24 * time.Hour, nil},
		{"supervisor cannot mint admin", sup, auth.Admin, 0, auth.ErrForbidden},
		{"operator cannot mint", op, auth.Viewer, 0, auth.ErrForbidden},
		{"unknown role", admin, "root", 0, auth.ErrForbidden},
		{"negative expiry", admin, auth.Viewer, -time.Hour, auth.ErrInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			tok, plain, err := f.svc.CreateToken(ctx, tc.by, "muro-sala", tc.role, tc.exp)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if tc.exp > 0 && !tok.ExpiresAt.Equal(f.clock.Now().Add(tc.exp)) {
				t.Errorf("expires at %v", tok.ExpiresAt)
			}
			p, err := f.svc.AuthenticateToken(ctx, plain)
			if err != nil {
				t.Fatalf("authenticate token: %v", err)
			}
			want := auth.Principal{UserID: tc.by.UserID, Username: "token:muro-sala", Role: tc.role, TokenID: tok.ID, Kind: auth.KindToken}
			if p != want {
				t.Errorf("got %+v, want %+v", p, want)
			}
			if !p.Can(auth.Read) {
				t.Error("token principal cannot read")
			}
		})
	}
}

func TestTokenManagementNeedsPermission(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sup := auth.Principal{UserID: "u-ana", Role: auth.Supervisor, Kind: auth.KindSession}
	viewer := auth.Principal{UserID: "u-v", Role: auth.Viewer, Kind: auth.KindSession}
	tok, plain, err := f.svc.CreateToken(ctx, sup, "script", auth.Operator, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ListTokens(ctx, viewer); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("viewer list: got %v", err)
	}
	if err := f.svc.RevokeToken(ctx, viewer, tok.ID); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("viewer revoke: got %v", err)
	}
	list, err := f.svc.ListTokens(ctx, sup)
	if err != nil || len(list) != 1 || list[0].ID != tok.ID {
		t.Fatalf("list: got %+v, %v", list, err)
	}
	if err := f.svc.RevokeToken(ctx, sup, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("revoked token: got %v", err)
	}
	if err := f.svc.RevokeToken(ctx, sup, tok.ID); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("revoke twice: got %v", err)
	}
}

func TestTokenExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sup := auth.Principal{UserID: "u-ana", Role: auth.Supervisor, Kind: auth.KindSession}
	_, plain, err := f.svc.CreateToken(ctx, sup, "script", auth.Viewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("expired token: got %v", err)
	}
}
