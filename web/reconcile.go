package web

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/intake"
)

// reconciler compares the day's informe with the board (intake.Reconciler).
type reconciler interface {
	Reconcile(ctx context.Context, date string) (intake.Reconciliation, error)
	Accept(ctx context.Context, date, itemID string, version *uint64, meta command.Meta) (intake.Decided, error)
	Dismiss(ctx context.Context, date, itemID, reason string, meta command.Meta) (intake.Decided, error)
}

// getReconciliation answers the differences between the day's current
// informe and the alerts in force, open and decided.
func (s *Server) getReconciliation(c *fiber.Ctx) error {
	if err := s.require(c, auth.Read); err != nil {
		return err
	}
	rec, err := s.cfg.Reconciler.Reconcile(c.UserContext(), c.Params("date"))
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// acceptItem applies an item to the board with the ordinary command. An
// item on an existing alert needs If-Match with the alert's version (the
// usual 412 when it changed meanwhile).
func (s *Server) acceptItem(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	var version *uint64
	if strings.TrimSpace(c.Get(fiber.HeaderIfMatch)) != "" {
		v, err := ifMatch(c)
		if err != nil {
			return err
		}
		version = &v
	}
	d, err := s.cfg.Reconciler.Accept(c.UserContext(), c.Params("date"), c.Params("item"), version, s.meta(c))
	if errors.Is(err, intake.ErrVersionRequired) {
		return errPreconditionRequired
	}
	if err != nil {
		return err
	}
	return s.decided(c, d)
}

type dismissBody struct {
	Reason string `json:"reason"`
}

// dismissItem records that an item is not to be applied, with a reason.
func (s *Server) dismissItem(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	var b dismissBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	d, err := s.cfg.Reconciler.Dismiss(c.UserContext(), c.Params("date"), c.Params("item"), b.Reason, s.meta(c))
	if err != nil {
		return err
	}
	return s.decided(c, d)
}

func (s *Server) decided(c *fiber.Ctx, d intake.Decided) error {
	for _, res := range d.Results {
		s.waitApplied(c, res)
	}
	return c.JSON(fiber.Map{"item": d.Item})
}
