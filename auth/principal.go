package auth

// Kind says how a Principal authenticated.
type Kind string

// The ways to authenticate.
const (
	// KindSession is a browser with a session cookie (after POST /api/auth/login).
	KindSession Kind = "session"
	// KindToken is a script or wall display with an API token
	// (Authorization: Bearer, or ?token= on /ws).
	KindToken Kind = "token"
)

// Principal is who a request acts as. The web middleware puts one in the
// request context; handlers check it with Can and copy UserID, Username and
// Role into the actor of the events they append.
//
// None of its fields is secret: SessionID is a reference derived from the
// stored hash, never the cookie value, so a Principal may be logged.
type Principal struct {
	// UserID is the user's ID. For a token it is the ID of the user who
	// created the token, who is accountable for what it does.
	UserID string
	// Username is the user's login name; for a token, "token:" + its name.
	Username string
	// Role is the user's role for a session, the token's role for a token.
	Role Role
	// SessionID is set when Kind is KindSession: a short, non-secret
	// reference to the session (see SessionRef).
	SessionID string
	// TokenID is set when Kind is KindToken: the token's ID as listed.
	TokenID string
	// Kind says whether this came from a session cookie or an API token.
	Kind Kind
}

// Can reports whether the principal may do p. It is Role.Can with one more
// rule: the display role works only through an API token, so a display
// principal from a session can do nothing. A principal of unknown kind can
// do nothing either.
func (p Principal) Can(perm Permission) bool {
	switch p.Kind {
	case KindSession:
		if p.Role == Display {
			return false
		}
	case KindToken:
	default:
		return false
	}
	return p.Role.Can(perm)
}
