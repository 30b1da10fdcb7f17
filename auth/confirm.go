package auth

import (
	"context"
	"fmt"
	"strings"
)

// ConfirmPassword checks the current password of a logged-in user before a
// change that asks for it (setting a new password). It spends one hash and
// is throttled on the same per-user key as Login, and a wrong password
// counts as a failed login: a stolen session cannot be used to guess the
// password faster than the login form allows.
//
// Errors: *ThrottledError while the user is locked out;
// ErrInvalidCredentials for a wrong password or a disabled user; anything
// else is a failure of a port or a malformed stored hash.
func (s *Service) ConfirmPassword(ctx context.Context, username, password string) error {
	key := "user:" + strings.ToLower(strings.TrimSpace(username))
	// Counted before the hash, in one step with the check, and cleared
	// only by the right password, so guesses sent at once are refused
	// once the limit is reached.
	if err := s.take(ctx, take{s.limiter, key}); err != nil {
		return fmt.Errorf("confirm password: %w", err)
	}
	_, match, err := s.check(ctx, username, password)
	if err != nil {
		return err
	}
	if !match {
		return ErrInvalidCredentials
	}
	if err := s.limiter.Reset(ctx, key); err != nil {
		return fmt.Errorf("confirm password: throttle %s: %w", key, err)
	}
	return nil
}
