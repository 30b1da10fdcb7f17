package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

func (a accounts) AccountByID(_ context.Context, userID string) (auth.Account, error) {
	for _, acct := range a {
		if acct.UserID == userID {
			return acct, nil
		}
	}
	return auth.Account{}, auth.ErrNoAccount
}

// Issue 14 item 3: a supervisor mints a token, an admin disables the
// supervisor; the token must stop working.
func TestTokenOfDisabledCreatorIsRefused(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Second})
	ctx := context.Background()
	sup := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, Kind: auth.KindSession}
	_, plain, err := svc.CreateToken(ctx, sup, "script", auth.Supervisor, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.AuthenticateToken(ctx, plain); err != nil || !p.Can(auth.ReadAudit) {
		t.Fatalf("before disabling: got %+v, %v", p, err)
	}
	a := f.accts["ana"]
	a.Disabled = true
	f.accts["ana"] = a

	// Disabled behind this Service's back (another hub of a fleet): refused
	// once the cache entry is older than CacheTTL.
	f.clock.Advance(time.Second)
	if _, err := svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("after disabling, past the cache: got %v, want ErrNoToken", err)
	}
}

func TestEndSessionsForgetsTheUsersTokensAtOnce(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	sup := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, Kind: auth.KindSession}
	_, plain, err := svc.CreateToken(ctx, sup, "script", auth.Operator, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, plain); err != nil {
		t.Fatal(err)
	}
	a := f.accts["ana"]
	a.Disabled = true
	f.accts["ana"] = a
	if err := svc.EndSessions(ctx, "u-ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("after disabling and EndSessions: got %v, want ErrNoToken", err)
	}
}

func TestTokenRoleIsCappedAtTheCreatorsRole(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: -1})
	ctx := context.Background()
	sup := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, Kind: auth.KindSession}
	_, plain, err := svc.CreateToken(ctx, sup, "script", auth.Supervisor, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := f.accts["ana"]
	a.Role = auth.Viewer
	f.accts["ana"] = a
	p, err := svc.AuthenticateToken(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != auth.Viewer || p.Can(auth.ReadAudit) || p.Can(auth.ManageTokens) || p.Can(auth.Edit) {
		t.Errorf("token of a demoted supervisor: got role %q, want viewer", p.Role)
	}
	// Role restored: the token's own role again, never more.
	a.Role = auth.Admin
	f.accts["ana"] = a
	if p, err := svc.AuthenticateToken(ctx, plain); err != nil || p.Role != auth.Supervisor {
		t.Errorf("creator promoted: got %q, %v, want supervisor", p.Role, err)
	}
}

func TestTokenOfUnknownCreatorIsRefused(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: -1})
	ctx := context.Background()
	_, plain, err := f.tokens.Create(ctx, auth.Token{Name: "x", Role: auth.Viewer, CreatedBy: "u-gone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("got %v, want ErrNoToken", err)
	}
	_, plain, err = f.tokens.Create(ctx, auth.Token{Name: "cli", Role: auth.Admin, CreatedBy: "system:cli"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.AuthenticateToken(ctx, plain); err != nil || p.Role != auth.Admin {
		t.Errorf("token from hub token create: got %+v, %v", p, err)
	}
}

func TestTokenRole(t *testing.T) {
	cases := []struct{ token, creator, want auth.Role }{
		{auth.Display, auth.Supervisor, auth.Display},
		{auth.Operator, auth.Admin, auth.Operator},
		{auth.Supervisor, auth.Operator, auth.Operator},
		{auth.Supervisor, auth.Viewer, auth.Viewer},
		{auth.Admin, auth.Supervisor, auth.Supervisor},
		{auth.Operator, "gone", ""},
	}
	for _, tc := range cases {
		if got := auth.TokenRole(tc.token, tc.creator); got != tc.want {
			t.Errorf("TokenRole(%s, %s): got %q, want %q", tc.token, tc.creator, got, tc.want)
		}
	}
}

func TestTokensDoNotMintTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	_, plain, err := f.svc.CreateToken(ctx, admin, "script", auth.Admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateToken(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateToken(ctx, p, "child", auth.Viewer, 0); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("token mints a token: got %v, want ErrForbidden", err)
	}
}

func TestTokenLifetimeDefaultAndMaximum(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	tok, _, err := f.svc.CreateToken(ctx, admin, "default", auth.Viewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(auth.DefaultTokenLifetime); !tok.ExpiresAt.Equal(want) {
		t.Errorf("default expiry: got %v, want %v", tok.ExpiresAt, want)
	}
	if _, _, err := f.svc.CreateToken(ctx, admin, "max", auth.Viewer, auth.MaxTokenLifetime); err != nil {
		t.Errorf("maximum lifetime: %v", err)
	}
	if _, _, err := f.svc.CreateToken(ctx, admin, "long", auth.Viewer, auth.MaxTokenLifetime+time.Second); !errors.Is(err, auth.ErrTokenLifetime) {
		t.Errorf("over the maximum: got %v, want ErrTokenLifetime", err)
	}
}

// Issue 14 item 9: a supervisor neither sees nor revokes admin tokens; an
// admin sees and revokes every token.
func TestSupervisorSeesOnlyTokensItCouldGrant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	sup := auth.Principal{UserID: "u-ana", Username: "ana", Role: auth.Supervisor, Kind: auth.KindSession}
	adminTok, _, err := f.svc.CreateToken(ctx, admin, "admin-script", auth.Admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	supTok, _, err := f.svc.CreateToken(ctx, sup, "sup-script", auth.Supervisor, 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.ListTokens(ctx, sup)
	if err != nil || len(list) != 1 || list[0].ID != supTok.ID {
		t.Errorf("supervisor's list: got %+v, %v, want only %s", list, err, supTok.ID)
	}
	if err := f.svc.RevokeToken(ctx, sup, adminTok.ID); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("supervisor revokes an admin token: got %v, want ErrNoToken", err)
	}
	list, err = f.svc.ListTokens(ctx, admin)
	if err != nil || len(list) != 2 {
		t.Errorf("admin's list: got %+v, %v, want both", list, err)
	}
	if err := f.svc.RevokeToken(ctx, admin, supTok.ID); err != nil {
		t.Errorf("admin revokes a supervisor's token: %v", err)
	}
}
