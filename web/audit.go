package web

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Audit pages: the JSON default, and how many rows one CSV export holds at
// most (more: the X-Next-Cursor header resumes it).
const (
	defaultAuditPage = 100
	maxAuditCSVRows  = 50_000
)

type auditPage struct {
	Entries []projections.AuditRecord `json:"entries"`
	// Next is the cursor= of the next page, absent on the last one.
	Next string `json:"next,omitempty"`
}

// getAudit serves who changed what (GET /api/audit), for supervisors and
// admins: ?actor=<username>&stream=<stream or prefix like alert->&type=
// &from=&to=<RFC 3339>&order=newest|oldest&limit=&cursor=, newest first by
// default. With ?format=csv or Accept: text/csv it exports the same query
// as CSV, every page of it up to maxAuditCSVRows rows.
func (s *Server) getAudit(c *fiber.Ctx) error {
	if err := s.require(c, auth.ReadAudit); err != nil {
		return err
	}
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	if q, err = restrictAudit(c, q); err != nil {
		return err
	}
	csvOut := c.Query("format") == "csv" || (c.Query("format") == "" && strings.Contains(c.Get(fiber.HeaderAccept), "text/csv"))
	if f := c.Query("format"); f != "" && f != "csv" && f != "json" {
		return &errBadRequest{detail: "format no válido", fields: map[string]string{"format": "csv o json"}}
	}
	if csvOut {
		return s.auditCSV(c, q)
	}
	page, err := s.auditPage(c, q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// auditPage reads one page of q (one record more, to know if it is the last).
func (s *Server) auditPage(c *fiber.Ctx, q projections.AuditQuery) (auditPage, error) {
	want := q.Limit
	q.Limit++
	recs, err := s.cfg.Reads.Audit(c.UserContext(), q)
	if err != nil {
		return auditPage{}, err
	}
	page := auditPage{Entries: recs}
	if len(recs) > want {
		page.Entries = recs[:want]
		page.Next = encodeCursor(recs[want-1].Position)
	}
	return page, nil
}

// auditQuery parses and validates the query string.
func auditQuery(c *fiber.Ctx) (projections.AuditQuery, error) {
	q := projections.AuditQuery{Actor: c.Query("actor"), Stream: c.Query("stream"), Type: c.Query("type"), Newest: true}
	fields := map[string]string{}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields[p.name] = "una fecha y hora RFC 3339, p. ej. 2026-01-15T12:00:00-03:00"
				continue
			}
			*p.dst = t
		}
	}
	switch c.Query("order", "newest") {
	case "newest", "desc":
	case "oldest", "asc":
		q.Newest = false
	default:
		fields["order"] = "newest u oldest"
	}
	q.Limit = defaultAuditPage
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > projections.MaxAuditPage {
			fields["limit"] = "entre 1 y 1000"
		}
		q.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		pos, err := decodeCursor(v)
		if err != nil {
			fields["cursor"] = "use el valor next de la página anterior"
		} else if q.Newest {
			q.Before = pos
		} else {
			q.After = pos
		}
	}
	if len(fields) > 0 {
		return q, &errBadRequest{detail: "parámetros de consulta no válidos", fields: fields}
	}
	return q, nil
}

// A cursor is the position of the last record of a page, opaque to clients.
func encodeCursor(p eventstore.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.String()))
}

func decodeCursor(s string) (eventstore.Position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return eventstore.Position{}, err
	}
	return eventstore.ParsePosition(string(raw))
}

// auditCSVHeader names the CSV export's columns.
var auditCSVHeader = []string{"position", "recorded_at", "actor_id", "actor_username", "actor_role", "stream", "version", "type", "summary", "diff", "correlation_id"}

// auditCSV writes every page of q as CSV.
func (s *Server) auditCSV(c *fiber.Ctx, q projections.AuditQuery) error {
	explicit := c.Query("limit") != ""
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(auditCSVHeader)
	rows, next := 0, ""
	for {
		if !explicit {
			q.Limit = min(projections.MaxAuditPage, maxAuditCSVRows-rows)
		}
		page, err := s.auditPage(c, q)
		if err != nil {
			return err
		}
		for _, r := range page.Entries {
			diff := ""
			if len(r.Diff) > 0 {
				b, _ := json.Marshal(r.Diff)
				diff = string(b)
			}
			row := []string{r.Position.String(), r.RecordedAt.Format(time.RFC3339Nano), r.Actor.ID, r.Actor.Username, r.Actor.Role,
				r.Stream, strconv.FormatUint(r.Version, 10), r.Type, r.Summary, diff, r.CorrelationID}
			for i := range row {
				row[i] = csvSafe(row[i])
			}
			_ = w.Write(row)
		}
		rows += len(page.Entries)
		next = page.Next
		if next == "" || explicit || rows >= maxAuditCSVRows {
			break
		}
		pos, _ := decodeCursor(next)
		if q.Newest {
			q.Before = pos
		} else {
			q.After = pos
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if next != "" {
		c.Set("X-Next-Cursor", next)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="auditoria.csv"`)
	return c.Send(buf.Bytes())
}

// csvSafe defuses CSV injection: a cell a spreadsheet would read as a
// formula (starting with = + - @, or a tab or carriage return) gets a
// leading quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
