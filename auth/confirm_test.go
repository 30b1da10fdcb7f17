package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/senapred-valparaiso/vigia/auth"
)

func TestConfirmPassword(t *testing.T) {
	ctx := context.Background()
	t.Run("right, wrong, disabled", func(t *testing.T) {
		f := newFixture(t)
		if err := f.svc.ConfirmPassword(ctx, "ana", password); err != nil {
			t.Errorf("right password: got %v", err)
		}
		if err := f.svc.ConfirmPassword(ctx, "ana", "marejadas-2025"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("wrong password: got %v, want ErrInvalidCredentials", err)
		}
		if err := f.svc.ConfirmPassword(ctx, "baja", password); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("disabled user: got %v, want ErrInvalidCredentials", err)
		}
	})
	t.Run("guesses count as failed logins", func(t *testing.T) {
		f := newFixture(t)
		for range 5 {
			_ = f.svc.ConfirmPassword(ctx, "ana", "otra-cosa-larga")
		}
		var te *auth.ThrottledError
		if err := f.svc.ConfirmPassword(ctx, "ana", password); !errors.As(err, &te) {
			t.Errorf("right password after five guesses: got %v, want ThrottledError", err)
		}
		if _, err := f.svc.Login(ctx, "ana", password, "10.0.0.9"); !errors.As(err, &te) {
			t.Errorf("login after five guesses: got %v, want ThrottledError", err)
		}
	})
}

// Every attempt is counted before it is hashed, and only the right
// password clears the count: a person who mistypes a few times is not
// locked out once they get it right.
func TestConfirmPasswordCountsBeforeHashing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Sequentially first: each wrong guess counts once.
	for range 4 {
		_ = f.svc.ConfirmPassword(ctx, "oscar", "otra-cosa-larga")
	}
	if err := f.svc.ConfirmPassword(ctx, "oscar", password); err != nil {
		t.Fatalf("right password after four guesses: got %v", err)
	}
	// The right one cleared them: four more guesses do not lock.
	for range 4 {
		_ = f.svc.ConfirmPassword(ctx, "oscar", "otra-cosa-larga")
	}
	if err := f.svc.ConfirmPassword(ctx, "oscar", password); err != nil {
		t.Fatalf("right password after a reset and four guesses: got %v", err)
	}
}
