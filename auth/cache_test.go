package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/memory"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
)

// countingSessions counts the lookups that reach the store. When hold is
// set, Get reads the store and then waits for it to be closed before
// answering, after signalling read: a lookup that raced something else.
type countingSessions struct {
	auth.SessionStore
	gets atomic.Int64
	hold chan struct{}
	read chan struct{}

	holdDelete chan struct{}
	deleting   chan struct{}
}

func (c *countingSessions) Get(ctx context.Context, id string) (auth.Session, error) {
	c.gets.Add(1)
	s, err := c.SessionStore.Get(ctx, id)
	if c.hold != nil {
		c.read <- struct{}{}
		<-c.hold
	}
	return s, err
}

// Delete, when holdDelete is set, signals deleting and waits for
// holdDelete to be closed before deleting: a logout whose store write is
// slow.
func (c *countingSessions) Delete(ctx context.Context, id string) error {
	if c.holdDelete != nil {
		c.deleting <- struct{}{}
		<-c.holdDelete
	}
	return c.SessionStore.Delete(ctx, id)
}

type countingTokens struct {
	auth.TokenStore
	lookups atomic.Int64
}

func (c *countingTokens) Lookup(ctx context.Context, plaintext string) (auth.Token, error) {
	c.lookups.Add(1)
	return c.TokenStore.Lookup(ctx, plaintext)
}

// cacheFixture is a Service over counting stores, sharing its clock and
// stores with any other Service made by also (another hub of a fleet).
type cacheFixture struct {
	clock    *sessiontest.Clock
	sessions *countingSessions
	tokens   *countingTokens
	accts    accounts
}

func newCacheFixture(t *testing.T) *cacheFixture {
	t.Helper()
	hash, err := auth.TestParams.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	c := sessiontest.NewClock()
	return &cacheFixture{
		clock:    c,
		sessions: &countingSessions{SessionStore: memory.NewSessionStore(c.Now)},
		tokens:   &countingTokens{TokenStore: memory.NewTokenStore(c.Now)},
		accts: accounts{
			"oscar":  {UserID: "u-oscar", Username: "oscar", Role: auth.Operator, PasswordHash: hash},
			"ana":    {UserID: "u-ana", Username: "ana", Role: auth.Supervisor, PasswordHash: hash},
			"admin1": {UserID: "u-admin", Username: "admin1", Role: auth.Admin, PasswordHash: hash},
		},
	}
}

// service returns a Service over the fixture's stores; cfg's CacheTTL,
// CacheSize and Policy are kept.
func (f *cacheFixture) service(t *testing.T, cfg auth.ServiceConfig) *auth.Service {
	t.Helper()
	cfg.Accounts, cfg.Sessions, cfg.Tokens = f.accts, f.sessions, f.tokens
	cfg.Limiter = memory.NewLimiter(auth.LimitPolicy{}, f.clock.Now)
	cfg.Params, cfg.Now = auth.TestParams, f.clock.Now
	svc, err := auth.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (f *cacheFixture) login(t *testing.T, svc *auth.Service, username string) auth.Session {
	t.Helper()
	s, err := svc.Login(context.Background(), username, password, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthenticateAnswersFromMemoryWithinTTL(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: 2 * time.Second})
	ctx := context.Background()
	sess := f.login(t, svc, "oscar")

	first, err := svc.Authenticate(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		got, err := svc.Authenticate(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != first {
			t.Fatalf("from memory: got %+v, want %+v", got, first)
		}
	}
	if n := f.sessions.gets.Load(); n != 1 {
		t.Errorf("store lookups within the TTL: got %d, want 1", n)
	}
	want := auth.Principal{UserID: "u-oscar", Username: "oscar", Role: auth.Operator, SessionID: auth.SessionRef(sess.ID), Kind: auth.KindSession}
	if first != want {
		t.Errorf("principal: got %+v, want %+v", first, want)
	}

	f.clock.Advance(2 * time.Second)
	if _, err := svc.Authenticate(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.sessions.gets.Load(); n != 2 {
		t.Errorf("store lookups once the TTL passed: got %d, want 2", n)
	}
}

func TestCacheOffAsksTheStoreEveryTime(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: -1})
	sess := f.login(t, svc, "oscar")
	for range 3 {
		if _, err := svc.Authenticate(context.Background(), sess.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.sessions.gets.Load(); n != 3 {
		t.Errorf("store lookups: got %d, want 3", n)
	}
}

func TestLogoutAndEndSessionsTakeEffectAtOnceDespiteTheCache(t *testing.T) {
	f := newCacheFixture(t)
	// A TTL far longer than the test: only invalidation can end a session.
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	a, b, c := f.login(t, svc, "oscar"), f.login(t, svc, "oscar"), f.login(t, svc, "ana")
	for _, s := range []auth.Session{a, b, c} {
		if _, err := svc.Authenticate(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}

	if err := svc.Logout(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, a.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after logout: got %v, want ErrNoSession", err)
	}
	if _, err := svc.Authenticate(ctx, b.ID); err != nil {
		t.Errorf("the user's other session after logout: %v", err)
	}

	if err := svc.EndSessions(ctx, "u-oscar"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, b.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after EndSessions: got %v, want ErrNoSession", err)
	}
	before := f.sessions.gets.Load()
	if _, err := svc.Authenticate(ctx, c.ID); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	if n := f.sessions.gets.Load(); n != before {
		t.Errorf("another user's session left memory: %d store lookups, want none", n-before)
	}
}

func TestRevokeTokenTakesEffectAtOnceDespiteTheCache(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	tok, plain, err := svc.CreateToken(ctx, admin, "muro", auth.Display, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := svc.CreateToken(ctx, admin, "sala", auth.Display, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, p := range []string{plain, other} {
			if _, err := svc.AuthenticateToken(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := f.tokens.lookups.Load(); n != 2 {
		t.Errorf("store lookups within the TTL: got %d, want 2", n)
	}
	if err := svc.RevokeToken(ctx, admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("after revoke: got %v, want ErrNoToken", err)
	}
	if _, err := svc.AuthenticateToken(ctx, other); err != nil {
		t.Errorf("another token after revoke: %v", err)
	}
}

func TestCacheNeverAcceptsAnExpiredCredential(t *testing.T) {
	f := newCacheFixture(t)
	// The TTL outlives both the session's idle timeout and the token.
	svc := f.service(t, auth.ServiceConfig{CacheTTL: 24 * time.Hour, Policy: auth.SessionPolicy{IdleTimeout: 10 * time.Minute}})
	ctx := context.Background()
	sess := f.login(t, svc, "oscar")
	admin := auth.Principal{UserID: "u-admin", Username: "admin1", Role: auth.Admin, Kind: auth.KindSession}
	_, plain, err := svc.CreateToken(ctx, admin, "muro", auth.Display, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, plain); err != nil {
		t.Fatal(err)
	}

	f.clock.Advance(10 * time.Minute)
	if _, err := svc.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("session idle for its timeout: got %v, want ErrNoSession", err)
	}
	f.clock.Advance(50 * time.Minute)
	if _, err := svc.AuthenticateToken(ctx, plain); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("token past its expiry: got %v, want ErrNoToken", err)
	}
}

func TestCacheKeepsSlidingTheIdleDeadline(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: 24 * time.Hour, TouchInterval: time.Minute, Policy: auth.SessionPolicy{IdleTimeout: 10 * time.Minute}})
	ctx := context.Background()
	sess := f.login(t, svc, "oscar")
	// A request every 5 minutes for an hour keeps a 10-minute session
	// alive, although the cache alone would have remembered it.
	for range 12 {
		f.clock.Advance(5 * time.Minute)
		if _, err := svc.Authenticate(ctx, sess.ID); err != nil {
			t.Fatalf("active session at %v: %v", f.clock.Now(), err)
		}
	}
	got, err := f.sessions.SessionStore.Get(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeen.Equal(f.clock.Now()) {
		t.Errorf("store's last seen: got %v, want %v", got.LastSeen, f.clock.Now())
	}
}

// In a fleet, a logout on another hub reaches this one through the shared
// store only: the documented bound is CacheTTL.
func TestLogoutOnAnotherInstanceIsHonouredWithinTTL(t *testing.T) {
	f := newCacheFixture(t)
	here := f.service(t, auth.ServiceConfig{CacheTTL: time.Second})
	there := f.service(t, auth.ServiceConfig{CacheTTL: time.Second})
	ctx := context.Background()
	sess := f.login(t, there, "oscar")
	if _, err := here.Authenticate(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if err := there.Logout(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := there.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("on the instance that logged out: got %v, want ErrNoSession", err)
	}
	// Within the bound, this instance may still answer from memory...
	f.clock.Advance(999 * time.Millisecond)
	if _, err := here.Authenticate(ctx, sess.ID); err != nil {
		t.Errorf("within the TTL: got %v (the bound allows the remembered session)", err)
	}
	// ...and from the TTL on, it asks the store and refuses.
	f.clock.Advance(time.Millisecond)
	if _, err := here.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("once the TTL passed: got %v, want ErrNoSession", err)
	}

	// Turned off, another instance's logout is honoured at once.
	off := f.service(t, auth.ServiceConfig{CacheTTL: -1})
	s2 := f.login(t, there, "oscar")
	if _, err := off.Authenticate(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if err := there.Logout(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := off.Authenticate(ctx, s2.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("cache off: got %v, want ErrNoSession", err)
	}
}

// A lookup that read the store just before a logout must not put the
// session back into memory once the logout is done.
func TestLookupRacingLogoutDoesNotResurrectTheSession(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	sess := f.login(t, svc, "oscar")

	f.sessions.hold, f.sessions.read = make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var raced error
	go func() {
		defer wg.Done()
		_, raced = svc.Authenticate(ctx, sess.ID)
	}()
	<-f.sessions.read // the lookup has read the live session
	if err := svc.Logout(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	close(f.sessions.hold)
	wg.Wait()
	f.sessions.hold = nil
	if raced != nil {
		t.Fatalf("the racing lookup read the session before the logout: got %v, want nil", raced)
	}
	if _, err := svc.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after logout: got %v, want ErrNoSession", err)
	}
}

// A lookup made while a logout is still writing to the store reads the
// live session; the logout must still end it here once it returns.
func TestLookupDuringSlowLogoutDoesNotOutliveIt(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	sess := f.login(t, svc, "oscar")

	f.sessions.holdDelete, f.sessions.deleting = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- svc.Logout(ctx, sess.ID) }()
	<-f.sessions.deleting // the logout has begun, the store still has the session
	if _, err := svc.Authenticate(ctx, sess.ID); err != nil {
		t.Fatalf("during the logout's store write: got %v, want the still stored session", err)
	}
	close(f.sessions.holdDelete)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.sessions.holdDelete = nil
	if _, err := svc.Authenticate(ctx, sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("after logout: got %v, want ErrNoSession", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	f := newCacheFixture(t)
	svc := f.service(t, auth.ServiceConfig{CacheTTL: time.Hour, CacheSize: 2})
	ctx := context.Background()
	a, b, c := f.login(t, svc, "oscar"), f.login(t, svc, "oscar"), f.login(t, svc, "ana")
	for _, s := range []auth.Session{a, b, a, b} {
		if _, err := svc.Authenticate(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.sessions.gets.Load(); n != 2 {
		t.Fatalf("two sessions in a cache of two: got %d store lookups, want 2", n)
	}
	// A third does not fit: the cache makes room rather than grow.
	for _, s := range []auth.Session{c, a} {
		if _, err := svc.Authenticate(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.sessions.gets.Load(); n != 4 {
		t.Errorf("after a third session: got %d store lookups, want 4", n)
	}
}
