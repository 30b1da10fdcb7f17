package web

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/report"
)

// history is time travel: any day's informe folded from the log
// (projections.History).
type history interface {
	Informe(ctx context.Context, date string, at time.Time, upto eventstore.Position) (projections.InformeView, error)
	Changes(ctx context.Context, date string) (projections.InformeChanges, error)
}

// informeDay validates :date (with an optional .pdf suffix) against the
// centre's calendar: a malformed date is a 400, a day that has not begun
// a 422. It returns the date, its bounds, now, and whether the path asked
// for the PDF.
func (s *Server) informeDay(c *fiber.Ctx) (date string, start, end, now time.Time, pdf bool, err error) {
	date, pdf = strings.CutSuffix(c.Params("date"), ".pdf")
	start, end, err = projections.DayBounds(date, s.cfg.Location)
	if err != nil {
		return "", start, end, now, false, &errBadRequest{detail: "fecha no válida", fields: map[string]string{"date": "use AAAA-MM-DD"}}
	}
	now = s.cfg.Commands.Now()
	if start.After(now) {
		return "", start, end, now, false, &domain.ValidationError{Fields: map[string]string{"date": "la fecha aún no llega: no hay informe de un día futuro"}}
	}
	return date, start, end, now, pdf, nil
}

// getInforme serves the informe of a day rebuilt from the log (GET
// /api/informes/{date}[.pdf][?at=RFC3339][&upto=<position>][&format=pdf]):
// as of the end of the day in the centre's time zone, now for today, or as
// of at (not before the day's start, not in the future). upto steps
// through the day: the informe as of that change (a position from
// /changes). JSON by default; the PDF with .pdf or format=pdf.
func (s *Server) getInforme(c *fiber.Ctx) error {
	if err := s.require(c, auth.Read); err != nil {
		return err
	}
	date, start, end, now, pdf, err := s.informeDay(c)
	if err != nil {
		return err
	}
	switch c.Query("format") {
	case "":
	case "pdf":
		pdf = true
	case "json":
		if pdf {
			return &errBadRequest{detail: "format no válido", fields: map[string]string{"format": "la ruta .pdf ya pide el PDF"}}
		}
	default:
		return &errBadRequest{detail: "format no válido", fields: map[string]string{"format": "json o pdf"}}
	}
	at := end
	if now.Before(at) {
		at = now
	}
	bad, invalid := map[string]string{}, map[string]string{}
	if v := c.Query("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		switch {
		case err != nil:
			bad["at"] = "una fecha y hora RFC 3339, p. ej. 2026-01-15T12:00:00-03:00"
		case t.Before(start):
			invalid["at"] = fmt.Sprintf("anterior al inicio del día (%s)", start.In(s.cfg.Location).Format(time.RFC3339))
		case t.After(now):
			invalid["at"] = "no puede ser un momento futuro"
		default:
			at = t
		}
	}
	var upto eventstore.Position
	if v := c.Query("upto"); v != "" {
		p, err := eventstore.ParsePosition(v)
		if err != nil || p.IsZero() {
			bad["upto"] = "una posición de la lista de cambios del día (position)"
		}
		upto = p
	}
	if len(bad) > 0 {
		return &errBadRequest{detail: "parámetros de consulta no válidos", fields: bad}
	}
	if len(invalid) > 0 {
		return &domain.ValidationError{Fields: invalid}
	}
	v, err := s.cfg.History.Informe(c.UserContext(), date, at.In(s.cfg.Location), upto)
	if err != nil {
		return err
	}
	if !pdf {
		return c.JSON(v)
	}
	var buf bytes.Buffer
	if err := report.WritePDF(&buf, v, s.cfg.Location); err != nil {
		return fmt.Errorf("informe %s as pdf: %w", date, err)
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="informe-`+date+`.pdf"`)
	return c.Send(buf.Bytes())
}

// getInformeChanges serves the changes of a day's informe in position
// order (GET /api/informes/{date}/changes), each with its position (for
// ?upto=), time, stream, version, event type, actor and Spanish summary.
func (s *Server) getInformeChanges(c *fiber.Ctx) error {
	if err := s.require(c, auth.Read); err != nil {
		return err
	}
	date, _, _, _, pdf, err := s.informeDay(c)
	if err != nil {
		return err
	}
	if pdf {
		return &errNotFound{what: "la ruta " + c.Path()}
	}
	ch, err := s.cfg.History.Changes(c.UserContext(), date)
	if err != nil {
		return err
	}
	return c.JSON(ch)
}
