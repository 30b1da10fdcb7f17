package auth

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownRole is returned (wrapped) by ParseRole and by stores given a
// role that is not one of Roles.
var ErrUnknownRole = errors.New("unknown role")

// Role is what a user or a token is allowed to do, as a coarse grade. The
// string value is what is stored in events, sessions and tokens and what the
// public API accepts.
type Role string

// The roles of the public contract, from most to least powerful.
const (
	// Admin may do everything, including managing users.
	Admin Role = "admin"
	// Supervisor edits, reads the audit trail and mints API tokens.
	Supervisor Role = "supervisor"
	// Operator edits alerts, shifts, the log and informes.
	Operator Role = "operator"
	// Viewer only reads.
	Viewer Role = "viewer"
	// Display only reads, and only through an API token (wall displays); a
	// Principal with this role coming from a cookie session is refused
	// everything (see Principal.Can).
	Display Role = "display"
)

// Roles lists every known role, most powerful first.
func Roles() []Role { return []Role{Admin, Supervisor, Operator, Viewer, Display} }

// ParseRole returns the Role named by s. Matching ignores surrounding space
// and case, so "Admin " parses as Admin. Anything else returns an error
// matching ErrUnknownRole.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("parse role %q: %w", s, ErrUnknownRole)
	}
	return r, nil
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	_, ok := grants[r]
	return ok
}

// String returns the role's wire name.
func (r Role) String() string { return string(r) }

// Permission is one thing a role may be allowed to do. Permissions are bit
// flags so that sets of them compare cheaply; callers should only pass the
// single named constants to Can.
type Permission uint8

// The permissions the web layer checks.
const (
	// Read: GET alerts, shifts, the log, informes, streams; subscribe on /ws.
	Read Permission = 1 << iota
	// Edit: change alerts, shifts, the log and informes.
	Edit
	// ManageUsers: create, disable and change the role or password of users.
	ManageUsers
	// ManageTokens: create, list and revoke API tokens.
	ManageTokens
	// ReadAudit: read /api/audit.
	ReadAudit
)

// Permissions lists every permission, in declaration order.
func Permissions() []Permission {
	return []Permission{Read, Edit, ManageUsers, ManageTokens, ReadAudit}
}

// String returns the permission's name, for logs and error messages.
func (p Permission) String() string {
	switch p {
	case Read:
		return "read"
	case Edit:
		return "edit"
	case ManageUsers:
		return "manage_users"
	case ManageTokens:
		return "manage_tokens"
	case ReadAudit:
		return "read_audit"
	}
	return fmt.Sprintf("permission(%d)", uint8(p))
}

// grants is the permission matrix. It is the one place to change it.
var grants = map[Role]Permission{
	Admin:      Read | Edit | ManageUsers | ManageTokens | ReadAudit,
	Supervisor: Read | Edit | ManageTokens | ReadAudit,
	Operator:   Read | Edit,
	Viewer:     Read,
	Display:    Read,
}

// Can reports whether role r grants p. An unknown role grants nothing, and
// p must be exactly one of the permission constants: zero or a combination
// is refused rather than guessed at.
func (r Role) Can(p Permission) bool {
	if p == 0 || p&(p-1) != 0 {
		return false
	}
	return grants[r]&p != 0
}

// CanGrant reports whether a holder of r may hand out other, for example
// mint an API token with role other: r must be allowed to manage tokens and
// other must grant nothing that r does not. This is what stops a supervisor
// from minting an admin token.
func (r Role) CanGrant(other Role) bool {
	mine, ok := grants[r]
	if !ok || !other.Valid() || !r.Can(ManageTokens) {
		return false
	}
	return grants[other]&^mine == 0
}
