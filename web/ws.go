package web

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

// liveHub is the realtime hub as the web layer mounts it.
type liveHub interface {
	Handler(identify ws.IdentifyFunc) fiber.Handler
}

// identifyWS authenticates a WebSocket handshake: a session cookie (same
// origin only: browsers send cookies on cross-site handshakes), a Bearer
// token, or ?token= for wall displays, which cannot set headers.
func (s *Server) identifyWS(c *fiber.Ctx) (ws.Identity, error) {
	p, err := s.identify(c, true)
	if err != nil {
		return ws.Identity{}, err
	}
	if p.Kind == auth.KindSession {
		if err := sameOrigin(c); err != nil {
			return ws.Identity{}, err
		}
	}
	if !p.Can(auth.Read) {
		return ws.Identity{}, errForbidden
	}
	return ws.Identity{Actor: p.Username, Principal: wsPrincipal(p)}, nil
}

// wsPrincipal is what the hub's per-principal cap counts: a user (every
// session of theirs together) or a token.
func wsPrincipal(p auth.Principal) string {
	if p.Kind == auth.KindToken {
		return "token:" + p.TokenID
	}
	return "user:" + p.UserID
}

// ValidSince reports whether since is a position the event store makes
// (ws.HubOptions.ValidSince): anything else is closed with
// ws.CloseBadSince instead of costing a snapshot.
func ValidSince(since string) bool {
	_, err := eventstore.ParsePosition(since)
	return err == nil
}

// Snapshot is the state a resuming WebSocket client gets when it is too far
// behind: for each topic it asked for, the same rows the list endpoints
// answer (today's shifts and log), and the position they reflect.
type Snapshot struct {
	Alerts []projections.AlertView `json:"alerts,omitempty"`
	Shifts *shiftList              `json:"shifts,omitempty"`
	Log    *logList                `json:"log,omitempty"`
}

// Snapshots makes the snapshots of the read models that the live hub sends
// a client resuming from too far behind. cmd/hub makes one and gives its
// Snapshot to the hub (ws.HubOptions.Snapshot) when it builds the hub,
// before the server.
type Snapshots struct {
	reads     projections.Queries
	projector positioner
	now       func() time.Time
	loc       *time.Location
}

// positioner is the projector as a snapshot reads it: the position the
// read models have reached.
type positioner interface {
	Position() eventstore.Position
}

// NewSnapshots returns snapshots of reads at projector's position; "today"
// (for shifts and log) is now's date in loc, the centre's time zone (nil:
// UTC, as Config.Location).
func NewSnapshots(reads projections.Queries, projector positioner, now func() time.Time, loc *time.Location) *Snapshots {
	if loc == nil {
		loc = time.UTC
	}
	return &Snapshots{reads: reads, projector: projector, now: now, loc: loc}
}

// Snapshot implements ws.SnapshotFunc over the read models. The position
// is read first, so the rows are at least that new.
func (s *Snapshots) Snapshot(ctx context.Context, topics, comunas []string) (json.RawMessage, string, error) {
	pos := s.projector.Position().String()
	var out Snapshot
	today := s.now().In(s.loc).Format(time.DateOnly)
	if slices.Contains(topics, notice.TopicAlerts) {
		alerts, err := s.reads.Alerts(ctx, "vigente")
		if err != nil {
			return nil, "", err
		}
		out.Alerts = filterAlerts(alerts, comunas)
	}
	if slices.Contains(topics, notice.TopicShifts) {
		shifts, err := s.reads.Shifts(ctx, today)
		if err != nil {
			return nil, "", err
		}
		out.Shifts = &shiftList{Date: today, Shifts: shifts, Position: pos}
	}
	if slices.Contains(topics, notice.TopicLog) {
		entries, err := s.reads.Log(ctx, today)
		if err != nil {
			return nil, "", err
		}
		out.Log = &logList{Date: today, Entries: entries, Position: pos}
	}
	data, err := json.Marshal(out)
	return data, pos, err
}

// filterAlerts keeps the alerts a comuna filter lets through, as the hub
// filters live notices.
func filterAlerts(alerts []projections.AlertView, comunas []string) []projections.AlertView {
	if len(comunas) == 0 {
		return alerts
	}
	out := alerts[:0:0]
	for _, a := range alerts {
		if a.Region || len(a.Comunas) == 0 && len(a.Provincias) == 0 {
			out = append(out, a)
			continue
		}
		for _, c := range comunas {
			if slices.Contains(a.Comunas, c) || slices.Contains(a.Provincias, c[:3]) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}
