package ws

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/notice"
)

// Identity is who is on the other end of a connection, as the web layer's
// authentication established it. The hub only logs it.
type Identity struct {
	// Actor names the user or token, e.g. "jperez" or "token:muro-coe".
	Actor string
	// Principal is the key HubOptions.MaxPerPrincipal counts: one per
	// user (all their sessions) or token. Empty: not counted.
	Principal string
}

// IdentifyFunc tells the hub who a request comes from. It runs in the
// handler, before the upgrade; an error it returns is returned by the handler
// unchanged (so the web layer's error handler answers 401/403 and no upgrade
// happens).
type IdentifyFunc func(c *fiber.Ctx) (Identity, error)

// Limits on the query parameters of GET /ws.
const (
	MaxComunas     = 64  // comunas in one filter (the region has 38)
	MaxSinceLength = 256 // bytes in a since position
)

const localsKey = "vigia.realtime.request"

// request is a validated GET /ws query.
type request struct {
	topics     uint8    // topic bits
	topicNames []string // canonical order, for Snapshot
	comunas    []string // sorted, deduplicated; empty = no filter
	since      string
	badSince   bool // since is not a position (HubOptions.ValidSince)
	identity   Identity
	ip         string
}

// Handler returns the GET /ws handler. Mount it behind the web layer's own
// authentication middleware: the hub does no authentication or
// authorisation. Since browsers send cookies on cross-site WebSocket
// handshakes (subject to SameSite), the web layer should also check Origin
// for cookie sessions. identify may be nil (anonymous connections).
//
// Before upgrading it answers 503 when the hub is closed, whatever identify
// returns, 400 (a *fiber.Error) for an invalid query, 426 for a request
// that is not a WebSocket upgrade, and 429 (with Retry-After) when the
// principal or the address already has HubOptions.MaxPerPrincipal or
// MaxPerIP connections open. Query parameters:
//
//   - topics: comma-separated subset of alerts, shifts, log, informes;
//     absent or empty means all.
//   - comunas: comma-separated CUT codes (five digits), at most MaxComunas;
//     a message passes if it is regional, not territorial, or concerns one of
//     them.
//   - since: the opaque position to resume after, printable ASCII without
//     spaces, at most MaxSinceLength bytes. One HubOptions.ValidSince
//     rejects is upgraded and closed at once with CloseBadSince, so that a
//     browser, which cannot read a refused handshake's status, sees why.
func (h *Hub) Handler(identify IdentifyFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if h.isClosed() {
			return fiber.NewError(fiber.StatusServiceUnavailable, "realtime hub is shutting down")
		}
		var id Identity
		if identify != nil {
			var err error
			if id, err = identify(c); err != nil {
				return err
			}
		}
		req, err := parseRequest(c.Query("topics"), c.Query("comunas"), c.Query("since"))
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		req.identity = Identity{Actor: strings.Clone(id.Actor), Principal: strings.Clone(id.Principal)}
		req.ip = strings.Clone(c.IP())
		req.badSince = req.since != "" && h.opts.ValidSince != nil && !h.opts.ValidSince(req.since)
		if which := h.overCap(req); which != "" {
			h.stats.refused.Add(1)
			c.Set(fiber.HeaderRetryAfter, "30")
			return fiber.NewError(fiber.StatusTooManyRequests, tooManyReason(which))
		}
		c.Locals(localsKey, req)
		return h.ws(c)
	}
}

// overCap names the cap one more connection for r would exceed, or "".
func (h *Hub) overCap(r *request) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.overCapLocked(r)
}

// tooManyReason is the 429 detail and the CloseTooManyConnections reason
// (at most 123 bytes).
func tooManyReason(which string) string {
	if which == "principal" {
		return "demasiadas conexiones de este usuario / too many connections for this user or token"
	}
	return "demasiadas conexiones desde esta dirección / too many connections from this address"
}

// parseRequest validates the query. Fiber's strings point into its request
// buffer, so everything kept is cloned.
func parseRequest(topics, comunas, since string) (*request, error) {
	r := &request{}
	if strings.TrimSpace(topics) == "" {
		topics = strings.Join(notice.Topics(), ",")
	}
	for t := range strings.SplitSeq(topics, ",") {
		bit := topicBit(strings.TrimSpace(t))
		if bit == 0 {
			return nil, fmt.Errorf("topics: unknown topic %q (want a subset of alerts,shifts,log,informes)", t)
		}
		r.topics |= bit
	}
	for i, name := range notice.Topics() {
		if r.topics&(1<<i) != 0 {
			r.topicNames = append(r.topicNames, name)
		}
	}
	if strings.TrimSpace(comunas) != "" {
		for code := range strings.SplitSeq(comunas, ",") {
			code = strings.TrimSpace(code)
			if !isCUT(code) {
				return nil, fmt.Errorf("comunas: %q is not a CUT code (five digits, e.g. 05101)", code)
			}
			r.comunas = append(r.comunas, strings.Clone(code))
		}
		slices.Sort(r.comunas)
		r.comunas = slices.Compact(r.comunas)
		if len(r.comunas) > MaxComunas {
			return nil, fmt.Errorf("comunas: %d codes, at most %d", len(r.comunas), MaxComunas)
		}
	}
	if len(since) > MaxSinceLength {
		return nil, fmt.Errorf("since: %d bytes, at most %d", len(since), MaxSinceLength)
	}
	for i := 0; i < len(since); i++ {
		if since[i] <= ' ' || since[i] > '~' {
			return nil, fmt.Errorf("since: byte %d is not printable ASCII", i)
		}
	}
	r.since = strings.Clone(since)
	return r, nil
}

func isCUT(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// topicBit returns the bit of a known topic, 0 for anything else.
func topicBit(topic string) uint8 {
	switch topic {
	case notice.TopicAlerts:
		return 1 << 0
	case notice.TopicShifts:
		return 1 << 1
	case notice.TopicLog:
		return 1 << 2
	case notice.TopicInformes:
		return 1 << 3
	}
	return 0
}

// match reports whether e passes r's filters.
func (r *request) match(e *entry) bool {
	if e.topic&r.topics == 0 {
		return false
	}
	if len(r.comunas) == 0 || e.region || len(e.comunas) == 0 {
		return true
	}
	for _, a := range e.comunas {
		if _, found := slices.BinarySearch(r.comunas, a); found {
			return true
		}
	}
	return false
}
