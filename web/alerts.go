package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

type alertList struct {
	Alerts   []projections.AlertView `json:"alerts"`
	Position string                  `json:"position"`
}

// listAlerts answers the alerts of a status with the position they are at
// least as new as (read before the rows). The answer is the same for every
// principal allowed to read, so it is encoded once per read-model position
// and status and the same bytes are served until the projector moves on
// (alertLists). Were the view ever to differ by role, the role would have
// to join the cache key. The ETag is a hash of the bytes: If-None-Match
// gets a 304.
func (s *Server) listAlerts(c *fiber.Ctx) error {
	status := c.Query("status", string(domain.StatusVigente))
	cache := s.lists.of(status)
	if cache == nil {
		return &errBadRequest{detail: "estado desconocido", fields: map[string]string{"status": "use vigente, cancelada o all"}}
	}
	pos := s.cfg.Projector.Position()
	encode := func() (*encodedList, error) { return s.encodeAlerts(c.UserContext(), status, pos) }
	var (
		list *encodedList
		err  error
	)
	if s.listsCacheable() {
		list, err = cache.at(pos, encode)
	} else {
		list, err = encode()
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, list.etag)
	// Cache-Control is no-store, as for all of /api (apiHeaders): a client
	// keeping the ETag itself still gets a 304.
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), list.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	// The cached bytes are never modified, so the response may point at
	// them instead of copying.
	c.Response().SetBodyRaw(list.body)
	return nil
}

// encodeAlerts reads and encodes the alert list of a status; pos is the
// projector's position read before the rows.
func (s *Server) encodeAlerts(ctx context.Context, status string, pos eventstore.Position) (*encodedList, error) {
	alerts, err := s.cfg.Reads.Alerts(ctx, status)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(alertList{Alerts: alerts, Position: pos.String()})
	if err != nil {
		return nil, fmt.Errorf("encode alerts: %w", err)
	}
	sum := sha256.Sum256(body)
	return &encodedList{pos: pos, body: body, etag: `"l-` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// listsCacheable reports whether the projector's position says when the
// read model changes: true while this instance's projector is the one
// applying events (always, with the memory read model). A standby over a
// shared Postgres read model learns the position after the rows have
// changed, so caching there could serve a list older than the database,
// and another instance's write would not be visible in a read after it.
func (s *Server) listsCacheable() bool {
	return s.cfg.Projector.Leading()
}

// alertLists holds the encoded GET /api/alerts of each status.
type alertLists struct {
	vigente, cancelada, all alertListCache
}

// of returns the cache of a status, nil for an unknown status.
func (l *alertLists) of(status string) *alertListCache {
	switch status {
	case string(domain.StatusVigente):
		return &l.vigente
	case string(domain.StatusCancelada):
		return &l.cancelada
	case projections.StatusAll:
		return &l.all
	}
	return nil
}

// alertListCache is one status's last encoded list.
//
// Why serving it is correct: an entry for position p was encoded from rows
// read after the projector reached p, so its rows are at least as new as
// p; it is served only while the projector is still at p, and the
// projector's position only moves forward, after the read model has
// applied the events. A write answered after WaitFor(its position) has
// moved the projector past every older entry, so a read after it encodes
// anew and sees the write.
type alertListCache struct {
	mu  sync.Mutex // one encoding at a time: a change does not set 500 requests encoding the same list
	cur atomic.Pointer[encodedList]
}

// encodedList is an encoded alert list and the position it was read at.
type encodedList struct {
	pos  eventstore.Position
	body []byte
	etag string
}

// at returns the list encoded at pos, encoding it if it is not the cached
// one.
func (l *alertListCache) at(pos eventstore.Position, encode func() (*encodedList, error)) (*encodedList, error) {
	if e := l.cur.Load(); e != nil && e.pos == pos {
		return e, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.cur.Load(); e != nil && e.pos == pos {
		return e, nil
	}
	e, err := encode()
	if err != nil {
		return nil, err
	}
	if cur := l.cur.Load(); cur == nil || e.pos.Compare(cur.pos) >= 0 {
		l.cur.Store(e)
	}
	return e, nil
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
	tag := etag(a.Version)
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
	c.Set(fiber.HeaderETag, etag(v.Version))
	return c.Status(fiber.StatusCreated).JSON(v)
}

func renderAlert(l command.Loaded) projections.AlertView {
	return projections.NewAlertView(l.State.(*domain.Alert), *l.Last)
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
	version, err := ifMatch(c)
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
	return s.alertChange(c, id, version, cmd)
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
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b cancelAlertBody
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &b); err != nil {
			return err
		}
	}
	return s.alertChange(c, id, version, domain.CancelAlert{Reason: b.Reason, At: s.cfg.Commands.Now()})
}

// alertChange runs a change of an alert the client read at version.
func (s *Server) alertChange(c *fiber.Ctx, id string, version uint64, cmd domain.Command) error {
	res, err := s.execute(c, domain.AlertStream(id), command.IfVersion(command.Stream{}, version), cmd)
	if err != nil {
		return notFound(err, "la alerta "+id)
	}
	v := renderAlert(res.Loaded)
	c.Set(fiber.HeaderETag, etag(v.Version))
	return c.JSON(v)
}
