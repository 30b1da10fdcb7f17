package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/domain"
)

// userNamespace makes user IDs from usernames (UUID v5).
var userNamespace = uuid.MustParse("6f1c0f7e-5a0b-4c57-9f43-8d1f2a6e9b10")

// UserID is the ID, and so the stream, of the user with username: derived
// from the normalized name, so that appending a user's first event with
// NoStream is what makes usernames unique — no read model is consulted and
// two admins creating the same name at once cannot both succeed.
func UserID(username string) string {
	return uuid.NewSHA1(userNamespace, []byte(domain.NormalizeUsername(username))).String()
}

// CreateUser registers a user whose password the caller already hashed.
// A taken username is a *domain.RuleError with code "user_exists".
func (h *Handler) CreateUser(ctx context.Context, meta Meta, username, displayName, role, passwordHash string) (Result, error) {
	id := UserID(username)
	pre := func(l Loaded) error {
		if l.Exists() {
			return &domain.RuleError{Code: "user_exists", Message: "ya existe un usuario con ese nombre"}
		}
		return nil
	}
	return h.Execute(ctx, domain.UserStream(id), meta, pre, Command(domain.CreateUser{
		ID: id, Username: username, DisplayName: displayName, Role: role, PasswordHash: passwordHash, At: h.Now(),
	}))
}
