package web

import "github.com/gofiber/fiber/v2"

type permission int

const (
	permRead permission = iota
	permEdit
)

// require checks the actor's role allows p.
func (s *Server) require(c *fiber.Ctx, p permission) error {
	a := actor(c)
	switch p {
	case permEdit:
		switch a.Role {
		case "admin", "supervisor", "operator":
			return nil
		}
		return errForbidden
	}
	return nil
}
