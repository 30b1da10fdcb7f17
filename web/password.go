package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
)

type changePasswordBody struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// changeOwnPassword is POST /api/auth/password: a logged-in person sets a
// new password, giving the current one. Only a session may (a token has no
// password of its own, and its creator's must not be changeable by
// whoever holds the token). A wrong current password is a 422 on
// old_password (not a 401, which the UI reads as "logged out") and counts
// as a failed login (auth.Service.ConfirmPassword). Every session of the
// user ends, including one an attacker may hold, and this browser gets a
// fresh session, so the person stays logged in. 204 on success.
func (s *Server) changeOwnPassword(c *fiber.Ctx) error {
	p, ok := principal(c)
	if !ok || p.Kind != auth.KindSession {
		return errForbidden
	}
	var b changePasswordBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	if b.OldPassword == "" {
		return &domain.ValidationError{Fields: map[string]string{"old_password": "es obligatoria"}}
	}
	if b.NewPassword == b.OldPassword {
		return &domain.ValidationError{Fields: map[string]string{"new_password": "debe ser distinta de la actual"}}
	}
	// The policy first: a weak new password costs no hash and no attempt.
	if err := auth.ValidatePassword(b.NewPassword); err != nil {
		return passwordProblem("new_password", err)
	}
	err := s.cfg.Auth.ConfirmPassword(c.UserContext(), p.Username, b.OldPassword)
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		return &tooManyError{retryAfter: te.RetryAfter}
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &domain.ValidationError{Fields: map[string]string{"old_password": "la contraseña actual no es correcta"}}
	case err != nil:
		return err
	}
	hash, err := s.hashNewPassword("new_password", b.NewPassword)
	if err != nil {
		return err
	}
	cmd := domain.ChangeUserPassword{PasswordHash: hash, At: s.cfg.Commands.Now()}
	if _, err := s.execute(c, domain.UserStream(p.UserID), nil, cmd); err != nil {
		return notFound(err, "el usuario "+p.UserID)
	}
	log := zerolog.Ctx(c.UserContext())
	if err := s.cfg.Auth.EndSessions(c.UserContext(), p.UserID); err != nil {
		log.Error().Err(err).Str("user_id", p.UserID).Msg("sessions not ended after a password change")
	}
	log.Info().Msg("password changed")
	sess, err := s.cfg.Auth.Login(c.UserContext(), p.Username, b.NewPassword, s.clientIP(c))
	if err != nil {
		// The password is changed; this browser logs in again.
		log.Warn().Err(err).Msg("no new session after a password change")
		s.clearSessionCookie(c)
		return c.SendStatus(fiber.StatusNoContent)
	}
	s.setSessionCookie(c, sess)
	return c.SendStatus(fiber.StatusNoContent)
}
