package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

type alertList struct {
	Alerts   []projections.AlertView `json:"alerts"`
	Position string                  `json:"position"`
}

func (s *Server) listAlerts(c *fiber.Ctx) error {
	status := c.Query("status", string(domain.StatusVigente))
	switch status {
	case string(domain.StatusVigente), string(domain.StatusCancelada), projections.StatusAll:
	default:
		return &errBadRequest{detail: "estado desconocido", fields: map[string]string{"status": "use vigente, cancelada o all"}}
	}
	pos := s.cfg.Projector.Position()
	alerts, err := s.cfg.Reads.Alerts(c.UserContext(), status)
	if err != nil {
		return err
	}
	return c.JSON(alertList{Alerts: alerts, Position: pos.String()})
}

// alertID validates the :id parameter as a UUID.
func alertID(c *fiber.Ctx) (string, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return "", &errNotFound{what: "la alerta " + c.Params("id")}
	}
	return id.String(), nil
}

func (s *Server) getAlert(c *fiber.Ctx) error {
	id, err := alertID(c)
	if err != nil {
		return err
	}
	a, ok, err := s.cfg.Reads.Alert(c.UserContext(), id)
	if err != nil {
		return err
	}
	if !ok {
		return &errNotFound{what: "la alerta " + id}
	}
	tag := etag(int64(a.Version))
	c.Set(fiber.HeaderETag, tag)
	if c.Get(fiber.HeaderIfNoneMatch) == tag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.JSON(a)
}

type declareAlertBody struct {
	Hazard      string   `json:"hazard"`
	Level       string   `json:"level"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Resolution  string   `json:"resolution"`
	Region      bool     `json:"region"`
	Provincias  []string `json:"provincias"`
	Comunas     []string `json:"comunas"`
}

func (s *Server) declareAlert(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	var b declareAlertBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	id := uuid.NewString()
	cmd := domain.DeclareAlert{
		ID: id, Hazard: domain.Hazard(b.Hazard), Level: domain.Level(b.Level),
		Scope: domain.Scope{Region: b.Region, Provincias: b.Provincias, Comunas: b.Comunas},
		Title: b.Title, Description: b.Description, Resolution: b.Resolution, At: s.cfg.Commands.Now(),
	}
	res, err := s.execute(c, domain.AlertStream(id), nil, cmd)
	if err != nil {
		return err
	}
	v := renderAlert(res.Loaded)
	c.Set(fiber.HeaderLocation, "/api/alerts/"+id)
	c.Set(fiber.HeaderETag, etag(res.Version))
	return c.Status(fiber.StatusCreated).JSON(v)
}

func renderAlert(l command.Loaded) projections.AlertView {
	return projections.NewAlertView(l.State.(*domain.Alert), *l.Last)
}

// alertAt is the precondition for alert changes: the alert exists and is
// at the version the client saw.
func alertAt(id string, seen int64) command.Precondition {
	return func(l command.Loaded) error {
		if l.Version == command.NoVersion {
			return &errNotFound{what: "la alerta " + id}
		}
		if l.Version != seen {
			return &staleError{current: renderAlert(l), etag: etag(l.Version)}
		}
		return nil
	}
}

type editAlertBody struct {
	Level       *string   `json:"level"`
	Title       *string   `json:"title"`
	Description *string   `json:"description"`
	Resolution  *string   `json:"resolution"`
	Region      *bool     `json:"region"`
	Provincias  *[]string `json:"provincias"`
	Comunas     *[]string `json:"comunas"`
	Reason      string    `json:"reason"`
}

func (s *Server) editAlert(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	id, err := alertID(c)
	if err != nil {
		return err
	}
	seen, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b editAlertBody
	if err := decodeBody(c, &b); err != nil {
		return err
	}
	cmd := domain.EditAlert{
		Title: b.Title, Description: b.Description, Resolution: b.Resolution,
		Region: b.Region, Provincias: b.Provincias, Comunas: b.Comunas,
		Reason: b.Reason, At: s.cfg.Commands.Now(),
	}
	if b.Level != nil {
		l := domain.Level(*b.Level)
		cmd.Level = &l
	}
	return s.alertChange(c, id, seen, cmd)
}

type cancelAlertBody struct {
	Reason string `json:"reason"`
}

func (s *Server) cancelAlert(c *fiber.Ctx) error {
	if err := s.require(c, auth.Edit); err != nil {
		return err
	}
	id, err := alertID(c)
	if err != nil {
		return err
	}
	seen, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b cancelAlertBody
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &b); err != nil {
			return err
		}
	}
	return s.alertChange(c, id, seen, domain.CancelAlert{Reason: b.Reason, At: s.cfg.Commands.Now()})
}

func (s *Server) alertChange(c *fiber.Ctx, id string, seen int64, cmd domain.Command) error {
	res, err := s.execute(c, domain.AlertStream(id), alertAt(id, seen), cmd)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(res.Version))
	return c.JSON(renderAlert(res.Loaded))
}
