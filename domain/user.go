package domain

import (
	"regexp"
	"strings"
	"time"
)

// Roles a user may have. The permission each grants is decided by package
// auth; the domain only keeps the set closed.
var Roles = []string{"admin", "supervisor", "operator", "viewer", "display"}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// NormalizeUsername lower-cases and trims a username.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidUsername reports whether s (normalized) is an acceptable username.
func ValidUsername(s string) bool { return usernamePattern.MatchString(s) }

// User is the state of one user stream (user-<uuid>). The password is kept
// only as a hash made by package auth.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Role         string
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// CreateUser registers a user.
type CreateUser struct {
	ID           string
	Username     string
	DisplayName  string
	Role         string
	PasswordHash string
	At           time.Time
}

// ChangeUserRole sets a user's role.
type ChangeUserRole struct {
	Role string
	At   time.Time
}

// ChangeUserPassword replaces the password hash.
type ChangeUserPassword struct {
	PasswordHash string
	At           time.Time
}

// DisableUser stops a user from logging in; the history keeps their name.
type DisableUser struct {
	Reason string
	At     time.Time
}

func (CreateUser) commandName() string         { return "create_user" }
func (ChangeUserRole) commandName() string     { return "change_user_role" }
func (ChangeUserPassword) commandName() string { return "change_user_password" }
func (DisableUser) commandName() string        { return "disable_user" }

// UserCreated: a user was registered.
type UserCreated struct {
	UserID       string    `json:"user_id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// UserRoleChanged: the user's role changed.
type UserRoleChanged struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// UserPasswordChanged: the password hash was replaced.
type UserPasswordChanged struct {
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// UserDisabled: the user can no longer log in.
type UserDisabled struct {
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// EventType implements Event.
func (*UserCreated) EventType() string         { return "user.created" }
func (*UserRoleChanged) EventType() string     { return "user.role_changed" }
func (*UserPasswordChanged) EventType() string { return "user.password_changed" }
func (*UserDisabled) EventType() string        { return "user.disabled" }

// Decide implements Aggregate.
func (u *User) Decide(c Command) ([]Event, error) {
	switch c := c.(type) {
	case CreateUser:
		if u.ID != "" {
			return nil, &RuleError{Code: "user_exists", Message: "el usuario ya existe"}
		}
		fe := fieldErrors{}
		name := NormalizeUsername(c.Username)
		if !ValidUsername(name) {
			fe.add("username", "usuario no válido: 2 a 40 caracteres, minúsculas, números, . _ -")
		}
		if !ValidRole(c.Role) {
			fe.add("role", "rol desconocido")
		}
		display := checkText(fe, "display_name", c.DisplayName, false, 120)
		if c.PasswordHash == "" {
			fe.add("password", "es obligatoria")
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
		if display == "" {
			display = name
		}
		return []Event{&UserCreated{UserID: c.ID, Username: name, DisplayName: display, Role: c.Role, PasswordHash: c.PasswordHash, At: c.At}}, nil
	case ChangeUserRole:
		if err := u.mustBeActive(); err != nil {
			return nil, err
		}
		if !ValidRole(c.Role) {
			return nil, &ValidationError{Fields: map[string]string{"role": "rol desconocido"}}
		}
		if c.Role == u.Role {
			return nil, nil
		}
		return []Event{&UserRoleChanged{From: u.Role, To: c.Role, At: c.At}}, nil
	case ChangeUserPassword:
		if err := u.mustBeActive(); err != nil {
			return nil, err
		}
		if c.PasswordHash == "" {
			return nil, &ValidationError{Fields: map[string]string{"password": "es obligatoria"}}
		}
		return []Event{&UserPasswordChanged{PasswordHash: c.PasswordHash, At: c.At}}, nil
	case DisableUser:
		if err := u.mustBeActive(); err != nil {
			return nil, err
		}
		return []Event{&UserDisabled{Reason: strings.TrimSpace(c.Reason), At: c.At}}, nil
	}
	return nil, ErrUnknownCommand
}

func (u *User) mustBeActive() error {
	if u.ID == "" {
		return ErrNotFound
	}
	if u.Disabled {
		return &RuleError{Code: "user_disabled", Message: "el usuario está deshabilitado"}
	}
	return nil
}

// Apply implements Aggregate.
func (u *User) Apply(e Event) {
	switch e := e.(type) {
	case *UserCreated:
		*u = User{ID: e.UserID, Username: e.Username, DisplayName: e.DisplayName, Role: e.Role, PasswordHash: e.PasswordHash, CreatedAt: e.At, UpdatedAt: e.At}
	case *UserRoleChanged:
		u.Role, u.UpdatedAt = e.To, e.At
	case *UserPasswordChanged:
		u.PasswordHash, u.UpdatedAt = e.PasswordHash, e.At
	case *UserDisabled:
		u.Disabled, u.UpdatedAt = true, e.At
	}
}
