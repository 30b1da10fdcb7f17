package web

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// authService is what the web layer needs of auth.Service.
type authService interface {
	Login(ctx context.Context, username, password, clientIP string) (auth.Session, error)
	Authenticate(ctx context.Context, sessionID string) (auth.Principal, error)
	AuthenticateToken(ctx context.Context, plaintext string) (auth.Principal, error)
	Logout(ctx context.Context, sessionID string) error
	EndSessions(ctx context.Context, userID string) error
	ConfirmPassword(ctx context.Context, username, password string) error
	CreateToken(ctx context.Context, by auth.Principal, name string, role auth.Role, expiresIn time.Duration) (auth.Token, string, error)
	ListTokens(ctx context.Context, by auth.Principal) ([]auth.Token, error)
	RevokeToken(ctx context.Context, by auth.Principal, id string) error
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "vigia_session"

// principal returns the request's authenticated principal.
func principal(c *fiber.Ctx) (auth.Principal, bool) {
	p, ok := c.Locals(localPrincipal).(auth.Principal)
	return p, ok
}

// actor is who the request acts as, for the events it appends.
func actor(c *fiber.Ctx) eventstore.Actor {
	p, _ := principal(c)
	return eventstore.Actor{ID: p.UserID, Username: p.Username, Role: string(p.Role)}
}

// credentials finds the request's credentials: a Bearer token (or, where
// allowed, ?token=), else the session cookie.
func credentials(c *fiber.Ctx, allowQueryToken bool) (token, session string) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, value, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(value), ""
		}
		return "\x00invalid", ""
	}
	if allowQueryToken {
		if t := c.Query("token"); t != "" {
			return t, ""
		}
	}
	return "", c.Cookies(SessionCookie)
}

// identify authenticates the request, or returns errUnauthorized.
func (s *Server) identify(c *fiber.Ctx, allowQueryToken bool) (auth.Principal, error) {
	token, session := credentials(c, allowQueryToken)
	var (
		p   auth.Principal
		err error
	)
	switch {
	case token != "":
		p, err = s.cfg.Auth.AuthenticateToken(c.UserContext(), token)
	case session != "":
		p, err = s.cfg.Auth.Authenticate(c.UserContext(), session)
	default:
		return p, errUnauthorized
	}
	if err != nil {
		if errors.Is(err, auth.ErrNoSession) || errors.Is(err, auth.ErrNoToken) || errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrInvalidSession) {
			return p, errUnauthorized
		}
		// The session or token store did not answer: not the client's fault.
		return p, fmt.Errorf("%w: %w", errDependencyDown, err)
	}
	return p, nil
}

// authenticate is the /api middleware: every route below it needs a
// principal; cookie-authenticated unsafe requests must also be same-origin.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p, err := s.identify(c, false)
	if err != nil {
		return err
	}
	if p.Kind == auth.KindSession && !safeMethod(c.Method()) {
		if err := sameOrigin(c); err != nil {
			return err
		}
	}
	s.setPrincipal(c, p)
	if !p.Can(auth.Read) {
		return errForbidden
	}
	return c.Next()
}

func (s *Server) setPrincipal(c *fiber.Ctx, p auth.Principal) {
	c.Locals(localPrincipal, p)
	l := zerolog.Ctx(c.UserContext()).With().Str("actor", p.Username).Str("role", string(p.Role)).Logger()
	c.SetUserContext(l.WithContext(c.UserContext()))
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// errCrossSite is a cookie-authenticated change from another site.
var errCrossSite = errors.New("cross-site request")

// sameOrigin is the CSRF check for cookie sessions: SameSite=Strict keeps
// the cookie off cross-site requests in current browsers; this refuses what
// an older browser might still send. Sec-Fetch-Site, when present, must say
// same-origin (or none: typed by the user); otherwise an Origin header, when
// present, must match the Host.
func sameOrigin(c *fiber.Ctx) error {
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return errCrossSite
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != c.Hostname() {
		return errCrossSite
	}
	return nil
}

// require checks the principal's role allows perm.
func (s *Server) require(c *fiber.Ctx, perm auth.Permission) error {
	p, ok := principal(c)
	if !ok || !p.Can(perm) {
		return errForbidden
	}
	return nil
}

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Me is the logged-in user as /api/auth/me and login answer it.
type Me struct {
	UserID      string `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Kind        string `json:"kind"`
	CanEdit     bool   `json:"can_edit"`
	CanAdmin    bool   `json:"can_admin"`
	CanTokens   bool   `json:"can_tokens"`
	CanAudit    bool   `json:"can_audit"`
}

func (s *Server) me(c *fiber.Ctx, p auth.Principal) Me {
	m := Me{UserID: p.UserID, Username: p.Username, DisplayName: p.Username, Role: string(p.Role), Kind: string(p.Kind),
		CanEdit: p.Can(auth.Edit), CanAdmin: p.Can(auth.ManageUsers), CanTokens: p.Can(auth.ManageTokens), CanAudit: p.Can(auth.ReadAudit)}
	if p.Kind == auth.KindSession {
		if u, ok, err := s.cfg.Reads.UserByID(c.UserContext(), p.UserID); err == nil && ok {
			m.DisplayName = u.DisplayName
		}
	}
	return m
}

func (s *Server) login(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	var b loginBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.Username) == "" || b.Password == "" {
		return &errBadRequest{detail: "indique usuario y contraseña", fields: map[string]string{"username": "obligatorio", "password": "obligatoria"}}
	}
	sess, err := s.cfg.Auth.Login(c.UserContext(), b.Username, b.Password, s.clientIP(c))
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		return &tooManyError{retryAfter: te.RetryAfter}
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &errLogin{detail: "Usuario o contraseña incorrectos."}
	case errors.Is(err, auth.ErrTokenOnly):
		return &errLogin{detail: "Este usuario es de pantalla mural: use su enlace con token."}
	case err != nil:
		return err
	}
	s.setSessionCookie(c, sess)
	p := auth.Principal{UserID: sess.UserID, Username: sess.Username, Role: sess.Role, Kind: auth.KindSession}
	zerolog.Ctx(c.UserContext()).Info().Str("actor", sess.Username).Msg("login")
	return c.JSON(s.me(c, p))
}

// errLogin is a refused login (401 with a message for the person).
type errLogin struct{ detail string }

func (e *errLogin) Error() string { return "login refused: " + e.detail }

func (s *Server) logout(c *fiber.Ctx) error {
	if p, ok := principal(c); ok && p.Kind == auth.KindSession {
		if err := s.cfg.Auth.Logout(c.UserContext(), c.Cookies(SessionCookie)); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) setSessionCookie(c *fiber.Ctx, sess auth.Session) {
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: sess.ID, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.cfg.SecureCookies, Expires: sess.ExpiresAt,
	})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.cfg.SecureCookies, Expires: time.Unix(0, 0), MaxAge: -1})
}

func (s *Server) getMe(c *fiber.Ctx) error {
	p, _ := principal(c)
	return c.JSON(s.me(c, p))
}

// clientIP is the client's address as the hub uses it (login throttling):
// see clientAddr and Config.TrustedProxies.
func (s *Server) clientIP(c *fiber.Ctx) string {
	return clientAddr(c, s.cfg.TrustedProxies)
}

// clientAddr is the address of the request's client. It is the TCP peer,
// unless the peer is a trusted proxy: then it is the right-most
// X-Forwarded-For entry that is not a trusted proxy (entries left of it
// were written by the client and can be anything). Fiber's ProxyHeader
// with EnableIPValidation takes the left-most valid entry instead, which a
// client chooses, so it is not used. If every entry is a trusted proxy,
// the left-most is the client; an entry that is not an address ends the
// walk at the proxy that wrote it.
func clientAddr(c *fiber.Ctx, trusted []netip.Prefix) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	peer = peer.Unmap()
	addr := peer
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	var entries []string
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		for e := range strings.SplitSeq(string(h), ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(entries[i])
		if err != nil {
			break
		}
		addr = a.Unmap()
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a comma-separated list of addresses and CIDR
// prefixes (Config.TrustedProxies, HUB_TRUSTED_PROXIES). Empty is none.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "/") {
			a, err := netip.ParseAddr(e)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", e, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", e, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
