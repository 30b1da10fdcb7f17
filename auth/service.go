package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Service errors.
var (
	// ErrInvalidCredentials is the only answer to a wrong username, a
	// wrong password or a disabled user, so that none can be told apart.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrTokenOnly is returned by Login for a user whose role is Display:
	// wall displays sign in with an API token, not a password.
	ErrTokenOnly = errors.New("this role can only use API tokens")
	// ErrForbidden means the principal is authenticated but lacks the
	// permission (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNoAccount is what an account source returns for an unknown
	// username (see NewService).
	ErrNoAccount = errors.New("no such account")
)

// Account is what Service needs to know about a user to log them in. Users
// are event-sourced in domain; the caller adapts its user read model to
// this.
type Account struct {
	// UserID is the user's ID (the uuid of its user-<uuid> stream).
	UserID string
	// Username is the login name as stored.
	Username string
	// Role is the user's current role.
	Role Role
	// PasswordHash is the PHC-format argon2id hash (HashPassword).
	PasswordHash string
	// Disabled users cannot log in.
	Disabled bool
}

// accounts finds a user by login name or by ID. Implementations return
// ErrNoAccount (possibly wrapped) for an unknown name or ID; matching names
// should ignore case. AccountByID is how a token's creator is checked.
type accounts interface {
	Account(ctx context.Context, username string) (Account, error)
	AccountByID(ctx context.Context, userID string) (Account, error)
}

// ServiceConfig wires a Service. Accounts, Sessions, Tokens and Limiter are
// required; the rest have defaults.
type ServiceConfig struct {
	// Accounts looks users up by username (see Account, ErrNoAccount).
	Accounts accounts
	// Sessions stores cookie sessions.
	Sessions SessionStore
	// Tokens stores API tokens.
	Tokens TokenStore
	// Limiter throttles logins per username and client IP pair
	// (DefaultLimitPolicy: five failures lock the pair), so that a guesser
	// at one address slows down without locking the account's owner out
	// at another. ConfirmPassword throttles the username on it.
	Limiter Limiter
	// SoftLimiter throttles logins per username and per client IP with a
	// softer policy (SoftLimitPolicy), bounding a guesser who spreads over
	// many addresses or many usernames. Nil means Limiter, which locks a
	// username after DefaultLimitPolicy.MaxFailures from anywhere.
	SoftLimiter Limiter
	// Policy sets session lifetimes; zero means the defaults.
	Policy SessionPolicy
	// TouchInterval is the least time between two Touch writes for one
	// session, so that busy clients do not write on every request. The
	// idle timeout is thus measured with this granularity. Zero means one
	// minute.
	TouchInterval time.Duration
	// MaxConcurrentHashes bounds password hashes running at once, so that
	// a burst of logins costs at most this many times Params.Memory. Zero
	// means runtime.GOMAXPROCS(0).
	MaxConcurrentHashes int
	// Params are the argon2id parameters stored hashes are made with. An
	// unknown username is checked against a dummy hash made with them, so
	// that it costs as much as a known one and usernames cannot be probed
	// by timing. Zero means DefaultParams.
	Params Params
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long Authenticate and AuthenticateToken answer from
	// memory a session or token their store has confirmed, instead of
	// asking the store on every request. Zero means DefaultCacheTTL;
	// negative turns the cache off.
	//
	// The bound, stated: Logout, EndSessions and RevokeToken through this
	// Service take effect at once. Made through another Service sharing
	// the stores (another hub of a fleet, sessions in Redis), or directly
	// in a store, they take effect here within CacheTTL. An expired
	// session or token is never answered from memory, and a session's idle
	// deadline still slides once per TouchInterval.
	CacheTTL time.Duration
	// CacheSize bounds the remembered sessions and, separately, tokens.
	// Zero means DefaultCacheSize.
	CacheSize int
}

// Service is login, logout and request authentication over the ports. It
// is safe for concurrent use.
type Service struct {
	accounts accounts
	sessions SessionStore
	tokens   TokenStore
	limiter  Limiter
	soft     Limiter
	policy   SessionPolicy
	touch    time.Duration
	now      func() time.Time
	hashing  chan struct{}
	// sources counts hashes queued or running per client IP (see
	// MaxHashesPerSource).
	sources inflight
	dummy   func() (string, error)
	// sessionCache and tokenCache remember confirmed credentials (see
	// ServiceConfig.CacheTTL); nil when the cache is off.
	sessionCache *credentialCache
	tokenCache   *credentialCache
}

// NewService returns a Service, or an error if a required port is missing.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Accounts == nil || cfg.Sessions == nil || cfg.Tokens == nil || cfg.Limiter == nil {
		return nil, errors.New("new auth service: accounts, sessions, tokens and limiter are required")
	}
	s := &Service{
		accounts: cfg.Accounts, sessions: cfg.Sessions, tokens: cfg.Tokens, limiter: cfg.Limiter,
		soft: cfg.SoftLimiter, policy: cfg.Policy, touch: cfg.TouchInterval, now: cfg.Now,
	}
	if s.soft == nil {
		s.soft = s.limiter
	}
	if s.touch <= 0 {
		s.touch = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	s.sessionCache = newCredentialCache(ttl, cfg.CacheSize)
	s.tokenCache = newCredentialCache(ttl, cfg.CacheSize)
	n := cfg.MaxConcurrentHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.hashing = make(chan struct{}, n)
	// Verifying an unknown user's password against a real hash makes the
	// answer take as long as for a known user.
	params := cfg.Params
	if params == (Params{}) {
		params = DefaultParams
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	s.dummy = sync.OnceValues(func() (string, error) { return params.Hash("vigia: no such user") })
	return s, nil
}

// Login checks a username and password and, on success, starts a session
// whose ID goes into the cookie. clientIP may be empty (then only the
// username is throttled).
//
// The attempt is counted (Limiter.Take) before the password is hashed, so
// guesses sent at once are refused once the limit is reached, and a
// client IP may have at most MaxHashesPerSource logins queued or hashing:
// a flood from one address is refused at once instead of taking the hash
// slots other users wait for.
//
// Errors: *ThrottledError while a key is locked out or the address has too
// many logins in flight (checked before the password, so a locked key
// learns nothing); ErrInvalidCredentials; ErrTokenOnly for display users;
// anything else is a failure of a port or a malformed stored hash (500).
func (s *Service) Login(ctx context.Context, username, password, clientIP string) (Session, error) {
	user := "user:" + strings.ToLower(strings.TrimSpace(username))
	if clientIP != "" {
		if !s.sources.acquire(clientIP) {
			return Session{}, &ThrottledError{RetryAfter: time.Second}
		}
		defer s.sources.release(clientIP)
	}
	// The address is checked, and counted only after a wrong password:
	// its key is never cleared (that would let a guesser with one valid
	// account clear its own address between guesses), so counting every
	// attempt would lock out an office's people one by one. At most
	// MaxHashesPerSource of its attempts are in flight, which bounds what
	// can pass the check uncounted.
	ipKey := "ip:" + clientIP
	if clientIP != "" {
		ok, after, err := s.soft.Allow(ctx, ipKey)
		if err != nil {
			return Session{}, fmt.Errorf("login: throttle %s: %w", ipKey, err)
		}
		if !ok {
			return Session{}, &ThrottledError{RetryAfter: after}
		}
	}
	// The account's keys are counted before the hash and cleared by the
	// right password.
	takes := []take{{s.soft, user}}
	if clientIP != "" {
		takes = append(takes, take{s.limiter, user + "@" + clientIP})
	} else if s.soft != s.limiter {
		takes = append(takes, take{s.limiter, user})
	}
	if err := s.take(ctx, takes...); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}

	acct, ok, err := s.check(ctx, username, password)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		if clientIP != "" {
			if err := s.soft.Fail(ctx, ipKey); err != nil {
				return Session{}, fmt.Errorf("login: throttle %s: %w", ipKey, err)
			}
		}
		return Session{}, ErrInvalidCredentials
	}
	if acct.Role == Display {
		return Session{}, ErrTokenOnly
	}
	for _, t := range takes {
		if err := t.l.Reset(ctx, t.key); err != nil {
			return Session{}, fmt.Errorf("login: throttle %s: %w", t.key, err)
		}
	}
	sess, err := s.policy.NewSession(acct.UserID, acct.Username, acct.Role, s.now())
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", acct.Username, err)
	}
	if err := s.sessions.Create(ctx, sess); err != nil {
		return Session{}, fmt.Errorf("login %s: %w", acct.Username, err)
	}
	return sess, nil
}

// take is one key of one limiter.
type take struct {
	l   Limiter
	key string
}

// take counts an attempt on every key (Limiter.Take) before a password is
// hashed, and returns *ThrottledError with the longest wait if any key
// refused. Keys taken before the refusing one stay counted: a refused
// guess still costs the guesser.
func (s *Service) take(ctx context.Context, takes ...take) error {
	var wait time.Duration
	for _, t := range takes {
		ok, after, err := t.l.Take(ctx, t.key)
		if err != nil {
			return fmt.Errorf("throttle %s: %w", t.key, err)
		}
		if !ok {
			wait = max(wait, after)
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// MaxHashesPerSource is how many logins one client IP may have queued for
// or running a password hash at once; more are refused with a
// *ThrottledError of one second. Two let a person retry a typo while the
// first attempt is still hashing.
const MaxHashesPerSource = 2

// inflight counts work in progress per source. The zero value is ready.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more for src, or reports false if src already has
// MaxHashesPerSource.
func (f *inflight) acquire(src string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = make(map[string]int)
	}
	if f.n[src] >= MaxHashesPerSource {
		return false
	}
	f.n[src]++
	return true
}

// release undoes one acquire, forgetting src at zero so the map stays
// as small as the work in flight.
func (f *inflight) release(src string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[src]--; f.n[src] <= 0 {
		delete(f.n, src)
	}
}

// check verifies the password, spending one hash whether or not the user
// exists. ok is false for an unknown user, a wrong password or a disabled
// user.
func (s *Service) check(ctx context.Context, username, password string) (Account, bool, error) {
	acct, err := s.accounts.Account(ctx, strings.TrimSpace(username))
	known := err == nil
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return Account{}, false, fmt.Errorf("login: account: %w", err)
	}
	hash := acct.PasswordHash
	if !known {
		if hash, err = s.dummy(); err != nil {
			return Account{}, false, fmt.Errorf("login: %w", err)
		}
	}
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return Account{}, false, ctx.Err()
	}
	match, err := VerifyPassword(hash, password)
	<-s.hashing
	if err != nil {
		return Account{}, false, fmt.Errorf("login %s: stored hash: %w", acct.Username, err)
	}
	return acct, known && match && !acct.Disabled, nil
}

// Authenticate returns the principal of a session cookie, sliding its idle
// expiry (at most once per TouchInterval). An unknown or expired session
// returns ErrNoSession. A session the store confirmed within CacheTTL is
// answered from memory (see ServiceConfig.CacheTTL).
func (s *Service) Authenticate(ctx context.Context, sessionID string) (Principal, error) {
	if sessionID == "" {
		return Principal{}, ErrNoSession
	}
	key := cacheKey(sessionID)
	now := s.now()
	if e, ok := s.sessionCache.get(key, now); ok && now.Sub(e.lastSeen) < s.touch {
		return e.p, nil
	}
	gen := s.sessionCache.generation()
	sess, err := s.sessions.Get(ctx, sessionID)
	if err != nil {
		if errors.Is(err, ErrNoSession) {
			s.sessionCache.drop(key)
		}
		return Principal{}, err
	}
	if now.Sub(sess.LastSeen) >= s.touch {
		if err := s.sessions.Touch(ctx, sessionID, now); err != nil {
			if errors.Is(err, ErrNoSession) {
				s.sessionCache.drop(key)
			}
			return Principal{}, err
		}
		sess.LastSeen = now
	}
	p := Principal{
		UserID: sess.UserID, Username: sess.Username, Role: sess.Role,
		SessionID: hex.EncodeToString(key[:8]), Kind: KindSession,
	}
	s.sessionCache.put(key, gen, cached{p: p, deadline: sess.Deadline(), lastSeen: sess.LastSeen}, now)
	return p, nil
}

// AuthenticateToken returns the principal of an API token (ErrNoToken if
// unknown, revoked or expired). The principal's UserID is the token's
// creator and its Username is "token:" + the token's name. A token the
// store confirmed within CacheTTL is answered from memory.
//
// A token acts for its creator and can do no more than they can now: a
// token whose creator is unknown or disabled is ErrNoToken, and its role is
// capped at the creator's current role (TokenRole). Tokens made by a hub
// command (Token.BySystem) have no user behind them and keep their role.
func (s *Service) AuthenticateToken(ctx context.Context, plaintext string) (Principal, error) {
	key := cacheKey(plaintext)
	now := s.now()
	if e, ok := s.tokenCache.get(key, now); ok {
		return e.p, nil
	}
	gen := s.tokenCache.generation()
	t, err := s.tokens.Lookup(ctx, plaintext)
	if err != nil {
		return Principal{}, err
	}
	if !t.Active(now) {
		return Principal{}, ErrNoToken
	}
	role := t.Role
	if !t.BySystem() {
		creator, err := s.accounts.AccountByID(ctx, t.CreatedBy)
		switch {
		case errors.Is(err, ErrNoAccount):
			return Principal{}, ErrNoToken
		case err != nil:
			return Principal{}, fmt.Errorf("token %s: creator %s: %w", t.ID, t.CreatedBy, err)
		case creator.Disabled:
			return Principal{}, ErrNoToken
		}
		role = TokenRole(t.Role, creator.Role)
	}
	p := Principal{
		UserID: t.CreatedBy, Username: "token:" + t.Name, Role: role,
		TokenID: t.ID, Kind: KindToken,
	}
	s.tokenCache.put(key, gen, cached{p: p, deadline: t.Expiry()}, now)
	return p, nil
}

// TokenRole is the role a token with role token acts with when its
// creator's role is now creator: its own if the creator's grants cover it,
// else the creator's if the token's grants cover that, else nothing (the
// empty role, which grants nothing). Lowering a user's role thus lowers
// what their tokens can do, and never raises it.
func TokenRole(token, creator Role) Role {
	t, okT := grants[token]
	c, okC := grants[creator]
	switch {
	case !okT || !okC:
		return ""
	case t&^c == 0:
		return token
	case c&^t == 0:
		return creator
	}
	return ""
}

// Logout ends the session; an unknown session is not an error. This
// Service stops accepting it at once.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	key := cacheKey(sessionID)
	s.sessionCache.invalidate(&key, nil)
	err := s.sessions.Delete(ctx, sessionID)
	// Again after the store: a lookup that read the store before the
	// delete must not put the session back.
	s.sessionCache.invalidate(&key, nil)
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// EndSessions ends every session of a user. Call it when a user is
// disabled, changes role or changes password. This Service stops accepting
// them at once, and forgets the user's tokens it remembers, so that the
// next use of each checks the creator's account again (AuthenticateToken);
// another Service of a fleet does so within CacheTTL.
func (s *Service) EndSessions(ctx context.Context, userID string) error {
	ofUser := func(p Principal) bool { return p.UserID == userID }
	s.tokenCache.invalidate(nil, ofUser)
	s.sessionCache.invalidate(nil, ofUser)
	err := s.sessions.DeleteUser(ctx, userID)
	s.sessionCache.invalidate(nil, ofUser)
	if err != nil {
		return fmt.Errorf("end sessions of %s: %w", userID, err)
	}
	return nil
}

// ErrTokenLifetime is returned (wrapped, with ErrInvalidToken) by
// CreateToken for a lifetime that is negative or longer than
// MaxTokenLifetime.
var ErrTokenLifetime = errors.New("token lifetime out of range")

// CreateToken mints an API token for by, which must be a session (tokens do
// not mint tokens) allowed to manage tokens and to grant role
// (Role.CanGrant: no escalation); else ErrForbidden. expiresIn zero means
// DefaultTokenLifetime; negative or over MaxTokenLifetime is
// ErrTokenLifetime. It returns the token and its plaintext, which is shown
// once.
func (s *Service) CreateToken(ctx context.Context, by Principal, name string, role Role, expiresIn time.Duration) (Token, string, error) {
	if by.Kind != KindSession || !by.Can(ManageTokens) || !by.Role.CanGrant(role) {
		return Token{}, "", ErrForbidden
	}
	if expiresIn < 0 || expiresIn > MaxTokenLifetime {
		return Token{}, "", fmt.Errorf("%w: %w: %v (at most %v)", ErrInvalidToken, ErrTokenLifetime, expiresIn, MaxTokenLifetime)
	}
	if expiresIn == 0 {
		expiresIn = DefaultTokenLifetime
	}
	t := Token{Name: strings.TrimSpace(name), Role: role, CreatedBy: by.UserID}
	t.ExpiresAt = s.now().Add(expiresIn).UTC().Round(0)
	t, plain, err := s.tokens.Create(ctx, t)
	if err != nil {
		return Token{}, "", fmt.Errorf("create token %q: %w", name, err)
	}
	return t, plain, nil
}

// ListTokens returns the active tokens by may see, if by may manage
// tokens: an admin sees every token; anyone else only the tokens whose role
// they could grant (Role.CanGrant), so a supervisor does not see admin
// tokens.
func (s *Service) ListTokens(ctx context.Context, by Principal) ([]Token, error) {
	if !by.Can(ManageTokens) {
		return nil, ErrForbidden
	}
	ts, err := s.tokens.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := ts[:0]
	for _, t := range ts {
		if by.Role.CanGrant(t.Role) {
			out = append(out, t)
		}
	}
	return out, nil
}

// RevokeToken revokes token id if by may manage tokens and could grant its
// role (ErrNoToken if there is no such token, or none that by may see, so
// that a supervisor learns nothing about admin tokens).
func (s *Service) RevokeToken(ctx context.Context, by Principal, id string) error {
	if !by.Can(ManageTokens) {
		return ErrForbidden
	}
	if by.Role != Admin {
		ts, err := s.ListTokens(ctx, by)
		if err != nil {
			return fmt.Errorf("revoke token %s: %w", id, err)
		}
		if !slices.ContainsFunc(ts, func(t Token) bool { return t.ID == id }) {
			return fmt.Errorf("revoke token %s: %w", id, ErrNoToken)
		}
	}
	byID := func(p Principal) bool { return p.TokenID == id }
	s.tokenCache.invalidate(nil, byID)
	err := s.tokens.Revoke(ctx, id)
	s.tokenCache.invalidate(nil, byID)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}
