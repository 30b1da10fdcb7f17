package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

type logList struct {
	Date     string                     `json:"date"`
	Entries  []projections.LogEntryView `json:"entries"`
	Position string                     `json:"position"`
}

func (s *Server) listLog(c *fiber.Ctx) error {
	date, err := s.dateParam(c.Query("date"))
	if err != nil {
		return err
	}
	pos := s.cfg.Projector.Position()
	entries, err := s.cfg.Reads.Log(c.UserContext(), date)
	if err != nil {
		return err
	}
	return c.JSON(logList{Date: date, Entries: entries, Position: pos.String()})
}

func (s *Server) getLogEntry(c *fiber.Ctx) error {
	e, err := s.logEntry(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(e.Version))
	return c.JSON(e)
}

func (s *Server) logEntry(c *fiber.Ctx) (projections.LogEntryView, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return projections.LogEntryView{}, &errNotFound{what: "la novedad " + c.Params("id")}
	}
	e, ok, err := s.cfg.Reads.LogEntry(c.UserContext(), id.String())
	if err != nil {
		return e, err
	}
	if !ok {
		return e, &errNotFound{what: "la novedad " + id.String()}
	}
	return e, nil
}

type addLogBody struct {
	Date     string   `json:"date"`
	Category string   `json:"category"`
	Text     string   `json:"text"`
	Comunas  []string `json:"comunas"`
	AlertID  string   `json:"alert_id"`
}

func (s *Server) addLogEntry(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	var b addLogBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	date, err := s.dateParam(b.Date)
	if err != nil {
		return err
	}
	if b.AlertID != "" {
		if _, err := uuid.Parse(b.AlertID); err != nil {
			return &errBadRequest{detail: "alerta no válida", fields: map[string]string{"alert_id": "debe ser el id de una alerta"}}
		}
	}
	id := uuid.NewString()
	cmd := domain.AddLogEntry{EntryID: id, Date: date, Category: domain.Category(b.Category), Text: b.Text, Comunas: b.Comunas, AlertID: b.AlertID, By: actor(c).Username, At: s.cfg.Commands.Now()}
	res, err := s.execute(c, domain.LogStream(date), nil, cmd)
	if err != nil {
		return err
	}
	e := res.State.(*domain.Log).Entry(id)
	c.Set(fiber.HeaderLocation, "/api/log/"+id)
	c.Set(fiber.HeaderETag, etag(e.Version))
	return c.Status(fiber.StatusCreated).JSON(projections.LogEntryView{LogEntry: *e})
}

type correctLogBody struct {
	Category *string   `json:"category"`
	Text     string    `json:"text"`
	Comunas  *[]string `json:"comunas"`
	Reason   string    `json:"reason"`
}

func (s *Server) correctLogEntry(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	cur, err := s.logEntry(c)
	if err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b correctLogBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	cmd := domain.CorrectLogEntry{EntryID: cur.ID, Text: b.Text, Comunas: b.Comunas, Reason: b.Reason, By: actor(c).Username, At: s.cfg.Commands.Now()}
	if b.Category != nil {
		cat := domain.Category(*b.Category)
		cmd.Category = &cat
	}
	res, err := s.execute(c, domain.LogStream(cur.Date), command.IfVersion(command.LogEntry{ID: cur.ID}, version), cmd)
	if err != nil {
		return notFound(err, "la novedad "+cur.ID)
	}
	e := res.State.(*domain.Log).Entry(cur.ID)
	c.Set(fiber.HeaderETag, etag(e.Version))
	return c.JSON(projections.LogEntryView{LogEntry: *e})
}
