package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

func (s *Server) listUsers(c *fiber.Ctx) error {
	if err := s.require(c, auth.ManageUsers); err != nil {
		return err
	}
	users, err := s.cfg.Reads.Users(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"users": users})
}

type createUserBody struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Password    string `json:"password"`
}

// passwordProblem turns a password policy error into a message for the
// field that held the password.
func passwordProblem(field string, err error) error {
	msg := "contraseña no válida"
	switch {
	case errors.Is(err, auth.ErrPasswordTooShort):
		msg = "debe tener al menos " + strconv.Itoa(auth.MinPasswordLen) + " caracteres"
	case errors.Is(err, auth.ErrPasswordTooLong):
		msg = "es demasiado larga"
	case errors.Is(err, auth.ErrPasswordRepetitive):
		msg = "no puede repetir un solo carácter"
	case errors.Is(err, auth.ErrPasswordCommon):
		msg = "contraseña demasiado común: elija otra, p. ej. una frase de varias palabras"
	}
	return &domain.ValidationError{Fields: map[string]string{field: msg}}
}

// hashPassword checks a new password against the policy (a 422 on the
// "password" field) and hashes it.
func (s *Server) hashPassword(pw string) (string, error) { return s.hashNewPassword("password", pw) }

func (s *Server) hashNewPassword(field, pw string) (string, error) {
	if err := auth.ValidatePassword(pw); err != nil {
		return "", passwordProblem(field, err)
	}
	params := s.cfg.PasswordParams
	if params == (auth.Params{}) {
		params = auth.DefaultParams
	}
	return params.Hash(pw)
}

func (s *Server) createUser(c *fiber.Ctx) error {
	if err := s.require(c, auth.ManageUsers); err != nil {
		return err
	}
	var b createUserBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	if _, err := auth.ParseRole(b.Role); err != nil {
		return &domain.ValidationError{Fields: map[string]string{"role": "rol desconocido: admin, supervisor, operator, viewer o display"}}
	}
	if !domain.ValidUsername(domain.NormalizeUsername(b.Username)) {
		return &domain.ValidationError{Fields: map[string]string{"username": "usuario no válido: 2 a 40 caracteres, minúsculas, números, . _ -"}}
	}
	hash, err := s.hashPassword(b.Password)
	if err != nil {
		return err
	}
	res, err := s.cfg.Commands.CreateUser(c.UserContext(), s.meta(c), b.Username, b.DisplayName, strings.ToLower(b.Role), hash)
	if err != nil {
		return err
	}
	s.waitApplied(c, res)
	u := renderUser(res.Loaded)
	c.Set(fiber.HeaderLocation, "/api/users/"+u.ID)
	c.Set(fiber.HeaderETag, etag(u.Version))
	return c.Status(fiber.StatusCreated).JSON(u)
}

func renderUser(l command.Loaded) projections.UserView {
	u := l.State.(*domain.User)
	return projections.UserView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt, Version: l.Revision}
}

type editUserBody struct {
	Role     *string `json:"role"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
	Reason   string  `json:"reason"`
}

// editUser changes a user's role, password or enabled state. Every change
// ends the user's sessions, so a new role or a disabled account takes
// effect at once.
func (s *Server) editUser(c *fiber.Ctx) error {
	if err := s.require(c, auth.ManageUsers); err != nil {
		return err
	}
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return &errNotFound{what: "el usuario " + c.Params("id")}
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b editUserBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	me, _ := principal(c)
	var cmds []domain.Command
	now := s.cfg.Commands.Now()
	if b.Role != nil {
		if _, err := auth.ParseRole(*b.Role); err != nil {
			return &domain.ValidationError{Fields: map[string]string{"role": "rol desconocido"}}
		}
		if id.String() == me.UserID {
			return &domain.RuleError{Code: "own_role", Message: "no puede cambiar su propio rol"}
		}
		cmds = append(cmds, domain.ChangeUserRole{Role: strings.ToLower(*b.Role), At: now})
	}
	if b.Password != nil {
		hash, err := s.hashPassword(*b.Password)
		if err != nil {
			return err
		}
		cmds = append(cmds, domain.ChangeUserPassword{PasswordHash: hash, At: now})
	}
	if b.Disabled != nil {
		if !*b.Disabled {
			return &domain.ValidationError{Fields: map[string]string{"disabled": "una cuenta deshabilitada no se rehabilita; cree otra"}}
		}
		if id.String() == me.UserID {
			return &domain.RuleError{Code: "own_account", Message: "no puede deshabilitar su propia cuenta"}
		}
		cmds = append(cmds, domain.DisableUser{Reason: b.Reason, At: now})
	}
	if len(cmds) == 0 {
		return &errBadRequest{detail: "nada que cambiar: indique role, password o disabled"}
	}
	stream := domain.UserStream(id.String())
	var res command.Result
	for i, cmd := range cmds {
		if i > 0 {
			version = res.Revision // a user's version is its stream's revision
		}
		r, err := s.cfg.Commands.Execute(c.UserContext(), stream, s.meta(c), command.IfVersion(command.Stream{}, version), command.Command(cmd))
		if err != nil {
			return notFound(err, "el usuario "+id.String())
		}
		res = r
	}
	if err := s.cfg.Auth.EndSessions(c.UserContext(), id.String()); err != nil {
		zerolog.Ctx(c.UserContext()).Error().Err(err).Str("user_id", id.String()).Msg("sessions not ended after a user change")
	}
	s.waitApplied(c, res)
	u := renderUser(res.Loaded)
	c.Set(fiber.HeaderETag, etag(u.Version))
	return c.JSON(u)
}
