package web

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// defaultAuditPage is the JSON page size without ?limit.
const defaultAuditPage = 100

type auditPage struct {
	Entries []projections.AuditRecord `json:"entries"`
	// Next is the cursor= of the next page, absent on the last one.
	Next string `json:"next,omitempty"`
}

// getAudit serves who changed what (GET /api/audit), for supervisors and
// admins: ?actor=<username>&stream=<stream or prefix like alert->&type=
// &from=&to=<RFC 3339>&order=newest|oldest&limit=&cursor=, newest first by
// default. With ?format=csv or Accept: text/csv it exports the same query
// as CSV, streamed: every page of it, or with ?limit the one page.
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
	page, err := s.auditPage(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// auditPage reads one page of q, asking for one record more to know
// whether another page follows (a full page of MaxAuditPage too: the read
// models allow it one more).
func (s *Server) auditPage(ctx context.Context, q projections.AuditQuery) (auditPage, error) {
	want := q.Limit
	q.Limit++
	recs, err := s.cfg.Reads.Audit(ctx, q)
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

// auditCSV exports q as CSV. Without ?limit it streams every matching
// record, a page of MaxAuditPage at a time, so an export of any size holds
// one page in memory; with ?limit it is that one page, and X-Next-Cursor
// resumes it. The first page is read before the response starts, so that
// its errors still become problem responses; an error on a later page
// can only end the stream (and is logged).
func (s *Server) auditCSV(c *fiber.Ctx, q projections.AuditQuery) error {
	explicit := c.Query("limit") != ""
	if !explicit {
		q.Limit = projections.MaxAuditPage
	}
	// The context outlives the handler: the stream is written after it
	// returns (fasthttp calls the writer), when c is no longer ours.
	ctx := c.UserContext()
	page, err := s.auditPage(ctx, q)
	if err != nil {
		return err
	}
	if explicit && page.Next != "" {
		c.Set("X-Next-Cursor", page.Next)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="auditoria.csv"`)
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		w := csv.NewWriter(bw)
		_ = w.Write(auditCSVHeader)
		for {
			writeAuditRows(w, page.Entries)
			w.Flush()
			if w.Error() != nil || bw.Flush() != nil || explicit || page.Next == "" {
				return // done, or the client went away
			}
			last := page.Entries[len(page.Entries)-1].Position
			if q.Newest {
				q.Before = last
			} else {
				q.After = last
			}
			if page, err = s.auditPage(ctx, q); err != nil {
				zerolog.Ctx(ctx).Error().Err(err).Msg("audit csv export cut short")
				return
			}
		}
	})
	return nil
}

// writeAuditRows writes records as CSV rows, each cell defused.
func writeAuditRows(w *csv.Writer, recs []projections.AuditRecord) {
	for _, r := range recs {
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
