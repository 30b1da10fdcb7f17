package web

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// streamReader reads one stream's raw history.
type streamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error)
}

// maxStreamPage bounds one page of GET /api/streams/{stream}.
const maxStreamPage = 1000

type streamPage struct {
	Stream string             `json:"stream"`
	Events []eventstore.Event `json:"events"`
	// Next is the from= of the next page, absent on the last one.
	Next *uint64 `json:"next,omitempty"`
}

// getStream serves the raw, ordered history of one aggregate
// (?from=<version>&limit=<n>), for supervisors and admins. User streams are
// for admins only, and password hashes never leave the server.
func (s *Server) getStream(c *fiber.Ctx) error {
	if err := s.require(c, auth.ReadAudit); err != nil {
		return err
	}
	stream := c.Params("stream")
	if domain.NewAggregate(stream) == nil {
		return &errNotFound{what: "el stream " + stream}
	}
	if strings.HasPrefix(stream, domain.UserPrefix) {
		if err := s.require(c, auth.ManageUsers); err != nil {
			return err
		}
	}
	from, err := strconv.ParseUint(c.Query("from", "0"), 10, 64)
	if err != nil {
		return &errBadRequest{detail: "from no válido", fields: map[string]string{"from": "una versión (0, 1, 2…)"}}
	}
	limit, err := strconv.Atoi(c.Query("limit", "100"))
	if err != nil || limit < 1 || limit > maxStreamPage {
		return &errBadRequest{detail: "limit no válido", fields: map[string]string{"limit": "entre 1 y 1000"}}
	}
	events, err := s.cfg.Streams.ReadStream(c.UserContext(), stream, from, eventstore.Forwards, limit+1)
	if err != nil {
		return err
	}
	if len(events) == 0 && from == 0 {
		return &errNotFound{what: "el stream " + stream}
	}
	page := streamPage{Stream: stream, Events: events}
	if len(events) > limit {
		next := events[limit].Version
		page.Events, page.Next = events[:limit], &next
	}
	for i := range page.Events {
		page.Events[i].Data = redactSecrets(page.Events[i].Data)
	}
	return c.JSON(page)
}

// redactSecrets blanks password hashes in an event's data.
func redactSecrets(data json.RawMessage) json.RawMessage {
	if !strings.Contains(string(data), `"password_hash"`) {
		return data
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return data
	}
	if _, ok := m["password_hash"]; ok {
		m["password_hash"] = "[oculto]"
	}
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}
