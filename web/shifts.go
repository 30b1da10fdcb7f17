package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

type shiftList struct {
	Date     string                  `json:"date"`
	Shifts   []projections.ShiftView `json:"shifts"`
	Position string                  `json:"position"`
}

func (s *Server) listShifts(c *fiber.Ctx) error {
	date, err := s.dateParam(c.Query("date"))
	if err != nil {
		return err
	}
	pos := s.cfg.Projector.Position()
	shifts, err := s.cfg.Reads.Shifts(c.UserContext(), date)
	if err != nil {
		return err
	}
	return c.JSON(shiftList{Date: date, Shifts: shifts, Position: pos.String()})
}

// slotParams validates :date and :slot.
func (s *Server) slotParams(c *fiber.Ctx) (date, slot string, err error) {
	date = c.Params("date")
	if !domain.ValidDate(date) {
		return "", "", &errBadRequest{detail: "fecha no válida", fields: map[string]string{"date": domain.DateProblem(date)}}
	}
	slot = c.Params("slot")
	if !domain.ValidSlot(slot) {
		return "", "", &errBadRequest{detail: "turno no válido", fields: map[string]string{"slot": "minúsculas, números, - o _ (máximo 32)"}}
	}
	return date, slot, nil
}

// slotPrecondition reads If-Match "n" (the slot's version, assigned or
// emptied) or If-None-Match: * (the slot must be empty); one of them is
// required.
func slotPrecondition(c *fiber.Ctx, slot command.Slot) (command.Precondition, error) {
	if strings.TrimSpace(c.Get(fiber.HeaderIfNoneMatch)) == "*" {
		return command.IfAbsent(slot), nil
	}
	version, err := ifMatch(c)
	if err != nil {
		return nil, err
	}
	return command.IfVersionEvenIfAbsent(slot, version), nil
}

func renderSlot(l command.Loaded, date, slot string) projections.ShiftChange {
	r := l.State.(*domain.Roster)
	v, _ := r.SlotVersion(slot)
	out := projections.ShiftChange{Date: date, Slot: slot, Version: v}
	if sh, ok := r.Slots[slot]; ok {
		by := ""
		if l.Last != nil {
			by = l.Last.Actor.Username
		}
		out.Shift = &projections.ShiftView{Date: date, Shift: *sh, UpdatedBy: by}
	}
	return out
}

type putShiftBody struct {
	Start     string   `json:"start"`
	End       string   `json:"end"`
	Lead      string   `json:"lead"`
	Operators []string `json:"operators"`
	Notes     string   `json:"notes"`
}

func (s *Server) putShift(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	date, slot, err := s.slotParams(c)
	if err != nil {
		return err
	}
	pre, err := slotPrecondition(c, command.Slot{Date: date, Name: slot})
	if err != nil {
		return err
	}
	var b putShiftBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	cmd := domain.AssignShift{Date: date, Slot: slot, Start: b.Start, End: b.End, Lead: b.Lead, Operators: b.Operators, Notes: b.Notes, At: s.cfg.Commands.Now()}
	res, err := s.execute(c, domain.RosterStream(date), pre, cmd)
	if err != nil {
		return err
	}
	out := renderSlot(res.Loaded, date, slot)
	c.Set(fiber.HeaderETag, etag(out.Version))
	if out.Version == 1 {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(out)
}

func (s *Server) deleteShift(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	date, slot, err := s.slotParams(c)
	if err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	pre := command.IfVersion(command.Slot{Date: date, Name: slot}, version)
	res, err := s.execute(c, domain.RosterStream(date), pre, domain.UnassignShift{Date: date, Slot: slot, Reason: c.Query("reason"), At: s.cfg.Commands.Now()})
	if err != nil {
		return notFound(err, "el turno "+slot+" del "+date)
	}
	out := renderSlot(res.Loaded, date, slot)
	c.Set(fiber.HeaderETag, etag(out.Version))
	return c.JSON(out)
}
