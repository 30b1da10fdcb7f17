package web

import (
	"context"
	"fmt"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/projections"
)

// userReader finds users in a read model.
type userReader interface {
	UserByName(ctx context.Context, username string) (projections.UserView, bool, error)
	UserByID(ctx context.Context, id string) (projections.UserView, bool, error)
}

// Accounts adapts the users read model to what auth.Service logs people in
// against: users are event-sourced, auth only checks credentials.
type Accounts struct{ users userReader }

// NewAccounts returns the adapter over a read model.
func NewAccounts(users userReader) *Accounts { return &Accounts{users: users} }

// Account implements auth's account source.
func (a *Accounts) Account(ctx context.Context, username string) (auth.Account, error) {
	u, ok, err := a.users.UserByName(ctx, username)
	if err != nil {
		return auth.Account{}, fmt.Errorf("account %s: %w", username, err)
	}
	if !ok {
		return auth.Account{}, auth.ErrNoAccount
	}
	return account(u), nil
}

// AccountByID implements auth's account source: how a token's creator is
// checked on every use of the token.
func (a *Accounts) AccountByID(ctx context.Context, userID string) (auth.Account, error) {
	u, ok, err := a.users.UserByID(ctx, userID)
	if err != nil {
		return auth.Account{}, fmt.Errorf("account %s: %w", userID, err)
	}
	if !ok {
		return auth.Account{}, auth.ErrNoAccount
	}
	return account(u), nil
}

func account(u projections.UserView) auth.Account {
	return auth.Account{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), PasswordHash: u.PasswordHash, Disabled: u.Disabled}
}
