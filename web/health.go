package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/domain"
)

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

type readiness struct {
	Status   string            `json:"status"`
	Checks   map[string]string `json:"checks"`
	Position string            `json:"position"`
}

// readyz reports each dependency; 503 when any is down or the projector is
// not following the log.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	out := readiness{Status: "ok", Checks: map[string]string{}}
	for _, ch := range s.cfg.Checks {
		if err := ch.Check(ctx); err != nil {
			out.Status, out.Checks[ch.Name] = "degraded", err.Error()
		} else {
			out.Checks[ch.Name] = "ok"
		}
	}
	if s.cfg.Projector != nil {
		out.Position = s.cfg.Projector.Position().String()
		if s.cfg.Projector.Live() {
			out.Checks["projector"] = "ok"
		} else {
			out.Status, out.Checks["projector"] = "degraded", "not following the log"
		}
	}
	if out.Status != "ok" {
		c.Status(fiber.StatusServiceUnavailable)
	}
	return c.JSON(out)
}

type referenceData struct {
	Provincias []domain.Provincia `json:"provincias"`
	Hazards    []labelled         `json:"hazards"`
	Levels     []labelled         `json:"levels"`
	Categories []string           `json:"categories"`
}

type labelled struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// reference serves the region's provinces and comunas, hazards and levels,
// so the UI and scripts share the domain's lists.
func (s *Server) reference(c *fiber.Ctx) error {
	out := referenceData{Provincias: domain.Provincias()}
	for _, h := range domain.Hazards() {
		out.Hazards = append(out.Hazards, labelled{string(h), h.Label()})
	}
	for _, l := range domain.Levels {
		out.Levels = append(out.Levels, labelled{string(l), l.Label()})
	}
	for _, cat := range domain.Categories {
		out.Categories = append(out.Categories, string(cat))
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(out)
}
