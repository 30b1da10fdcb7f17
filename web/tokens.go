package web

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
)

type createTokenBody struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// ExpiresInDays is the token's lifetime in days, 1 to 365; absent
	// means auth.DefaultTokenLifetime (90 days).
	ExpiresInDays *int `json:"expires_in_days"`
	// ExpiresIn is the older form: a Go duration ("720h") or a number of
	// seconds; empty or zero means the default. Ignored when
	// expires_in_days is given.
	ExpiresIn any `json:"expires_in"`
}

const maxTokenDays = int(auth.MaxTokenLifetime / (24 * time.Hour))

// TokenView is an API token as listed (never its secret).
type TokenView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedBy string `json:"created_by"`
	// CreatedByUsername is the creator's username, in lists, when the
	// creator is a user the read model knows.
	CreatedByUsername string     `json:"created_by_username,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	ExpiresAt         *time.Time `json:"expires_at"`
	// Token is the secret, present only in the answer that created it.
	Token string `json:"token,omitempty"`
}

func tokenView(t auth.Token, secret string) TokenView {
	v := TokenView{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, Token: secret}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		v.ExpiresAt = &e
	}
	return v
}

func parseExpiresIn(v any) (time.Duration, error) {
	bad := &domain.ValidationError{Fields: map[string]string{"expires_in": "use segundos o una duración como \"720h\""}}
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		if x < 0 || x > 10*365*24*3600 {
			return 0, bad
		}
		return time.Duration(x) * time.Second, nil
	case string:
		if x == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, bad
		}
		return d, nil
	}
	return 0, bad
}

func (s *Server) createToken(c *fiber.Ctx) error {
	if err := s.require(c, auth.ManageTokens); err != nil {
		return err
	}
	var b createTokenBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	role, err := auth.ParseRole(b.Role)
	if err != nil {
		return &domain.ValidationError{Fields: map[string]string{"role": "rol desconocido"}}
	}
	if strings.TrimSpace(b.Name) == "" {
		return &domain.ValidationError{Fields: map[string]string{"name": "es obligatorio"}}
	}
	d, err := parseExpiresIn(b.ExpiresIn)
	if err != nil {
		return err
	}
	field := "expires_in"
	if b.ExpiresInDays != nil {
		field = "expires_in_days"
		if *b.ExpiresInDays < 1 || *b.ExpiresInDays > maxTokenDays {
			return &domain.ValidationError{Fields: map[string]string{field: fmt.Sprintf("entre 1 y %d días", maxTokenDays)}}
		}
		d = time.Duration(*b.ExpiresInDays) * 24 * time.Hour
	}
	p, _ := principal(c)
	t, secret, err := s.cfg.Auth.CreateToken(c.UserContext(), p, strings.TrimSpace(b.Name), role, d)
	if errors.Is(err, auth.ErrTokenLifetime) {
		return &domain.ValidationError{Fields: map[string]string{field: fmt.Sprintf("a lo más %d días", maxTokenDays)}}
	}
	if errors.Is(err, auth.ErrInvalidToken) {
		return &domain.ValidationError{Fields: map[string]string{"name": "nombre no válido (máximo 100 caracteres)"}}
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tokenView(t, secret))
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	p, _ := principal(c)
	ts, err := s.cfg.Auth.ListTokens(c.UserContext(), p)
	if err != nil {
		return err
	}
	out := make([]TokenView, len(ts))
	names := map[string]string{}
	for i, t := range ts {
		out[i] = tokenView(t, "")
		if t.BySystem() {
			continue
		}
		name, seen := names[t.CreatedBy]
		if !seen {
			if u, ok, err := s.cfg.Reads.UserByID(c.UserContext(), t.CreatedBy); err != nil {
				return err
			} else if ok {
				name = u.Username
			}
			names[t.CreatedBy] = name
		}
		out[i].CreatedByUsername = name
	}
	return c.JSON(fiber.Map{"tokens": out})
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	p, _ := principal(c)
	err := s.cfg.Auth.RevokeToken(c.UserContext(), p, c.Params("id"))
	if errors.Is(err, auth.ErrNoToken) {
		return &errNotFound{what: "el token " + c.Params("id")}
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
