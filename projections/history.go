package projections

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// Time travel. The informe of any day, or of any moment, is the fold of the
// log up to that moment, by the same State.Apply that builds the current
// read models: there is no second implementation of any event's effect.
//
// "As of T" means the events recorded at or before T (RecordedAt <= T), in
// position order. The stores stamp RecordedAt under their write lock and
// never let it go backwards along positions, so that set is always a prefix
// of the log; History reads it as one (it stops at the first event recorded
// after T).
//
// Folding a year of log for every request would take seconds, so History
// keeps periodic snapshots: at every day boundary (midnight in the centre's
// time zone) the state of the alerts in force and the position of the last
// event recorded by then. The informe of day D seeds a fresh State from the
// latest snapshot at or before the moment asked for, folds the day's own
// streams (roster-D, log-D, informe-D) up to the snapshot's position, and
// then every event after it up to the moment. Alert streams are the only
// state that spans days, which is why they are what a snapshot holds; the
// day streams are read whole, by name, which the store indexes. Snapshots
// only make it faster: without any, the same fold starts from the empty log.

// SnapshotVersion is the version of the fold and encoding that snapshots
// hold. Bump it whenever StreamState's fold or its JSON changes: snapshots
// of another version are ignored (and rewritten by the snapshotter), so a
// changed fold never seeds from state the old one made.
const SnapshotVersion = 1

// Snapshot is the state of the alert streams at a day boundary.
type Snapshot struct {
	// Version is the SnapshotVersion of the fold that made it.
	Version int
	// Boundary is a midnight in the history's time zone (the first instant
	// of a day): the snapshot holds every event recorded at or before it.
	Boundary time.Time
	// Position is the position of the last event (of any stream) recorded
	// at or before Boundary.
	Position eventstore.Position
	// Alerts are the states of the alert streams whose alert was in force
	// at Boundary, by stream name. Cancelled alerts are left out: a
	// cancelled alert never changes again, and should an event of one
	// appear anyway, History loads its stream then.
	Alerts map[string]*StreamState
}

// SnapshotStore keeps History's snapshots. The contract every adapter
// keeps (memory, postgres):
//
//   - Put is idempotent: a snapshot of the same version and boundary already
//     stored is kept and Put returns nil (every hub of a fleet may write the
//     same one; the log decides its content, so they are equal). Put does
//     not keep s.Alerts: it encodes them before returning.
//   - Before and Latest return snapshots the caller owns (decoded afresh),
//     which it may fold on.
//   - Snapshots are a cache: losing them (Reset) loses speed, never
//     correctness.
type SnapshotStore interface {
	// Put stores a snapshot.
	Put(ctx context.Context, s Snapshot) error
	// Before returns the snapshot of version with the latest Boundary at
	// or before t whose Position is at or before maxPos (the zero maxPos:
	// any position); ok is false when there is none.
	Before(ctx context.Context, version int, t time.Time, maxPos eventstore.Position) (s Snapshot, ok bool, err error)
	// Latest returns the snapshot of version with the latest Boundary.
	Latest(ctx context.Context, version int) (s Snapshot, ok bool, err error)
	// Reset deletes every snapshot, of every version.
	Reset(ctx context.Context) error
}

// ErrBadDate is returned for a date that is not YYYY-MM-DD.
var ErrBadDate = errors.New("bad date")

// DayBounds returns the first instant of date (YYYY-MM-DD) in loc and the
// first instant of the next day: the day is [start, end). Days are
// computed on the calendar, never by adding 24 hours, so a day of a DST
// change lasts 23 or 25 hours. Where midnight does not exist (Chile's DST
// starts at 24:00 on the first Saturday of September: the clock jumps to
// 01:00), the day starts at the jump.
func DayBounds(date string, loc *time.Location) (start, end time.Time, err error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil || !domain.ValidDate(date) {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: %q", ErrBadDate, date)
	}
	y, m, dd := d.Date()
	return Midnight(y, m, dd, loc), Midnight(y, m, dd+1, loc), nil
}

// Midnight returns the first instant of the day y-m-d (normalized like
// time.Date: day 32 of January is the 1st of February) in loc.
func Midnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	wy, wm, wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date()
	if ty, tm, td := t.Date(); ty != wy || tm != wm || td != wd {
		// Midnight was skipped by a DST change, and time.Date normalized
		// it into the day before: the day begins where that zone ends.
		_, end := t.ZoneBounds()
		return end
	}
	return t
}

// History rebuilds any day's informe from the log, and keeps the periodic
// snapshots that make it fast (Run). It is safe for concurrent use.
type History struct {
	store eventstore.Store
	snaps SnapshotStore // nil: no snapshots
	loc   *time.Location
	log   zerolog.Logger
}

// NewHistory returns a History over store whose days are those of loc
// (America/Santiago). snaps may be nil: every informe then folds the log
// from its start.
func NewHistory(store eventstore.Store, snaps SnapshotStore, loc *time.Location, log zerolog.Logger) *History {
	if loc == nil {
		loc = time.UTC
	}
	return &History{store: store, snaps: snaps, loc: loc, log: log.With().Str("component", "history").Logger()}
}

// Informe returns the informe of date as of at: the alerts in force, the
// day's shifts and log and the ingested informe's header, folded from the
// events recorded at or before at. A non-zero upto also leaves out every
// event after that position (the timeline's steps). The caller chooses at:
// the end of the day (DayBounds), now for today, or a moment the user
// asked for.
func (h *History) Informe(ctx context.Context, date string, at time.Time, upto eventstore.Position) (InformeView, error) {
	if !domain.ValidDate(date) {
		return InformeView{}, fmt.Errorf("informe: %w: %q", ErrBadDate, date)
	}
	r := h.replay(date, cut{at: at, upto: upto})
	if err := r.run(ctx); err != nil {
		return InformeView{}, fmt.Errorf("informe %s as of %s: %w", date, at.Format(time.RFC3339Nano), err)
	}
	v := r.state.InformeView(date, at)
	if !upto.IsZero() {
		v.UpTo = &upto
	}
	return v, nil
}

// InformeChange is one change of a day's informe, for stepping through the
// day: the informe as of the change is Informe(date, end of day, Position).
type InformeChange struct {
	Position   eventstore.Position `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
	Stream     string              `json:"stream"`
	Version    uint64              `json:"version"`
	Type       string              `json:"type"`
	// Actor is the username of who made the change.
	Actor string `json:"actor"`
	// Summary says what changed in one Spanish line (the audit's).
	Summary string `json:"summary"`
}

// InformeChanges are the changes of one day's informe, in position order.
type InformeChanges struct {
	Date    string          `json:"date"`
	Changes []InformeChange `json:"changes"`
}

// Changes returns the events that changed the informe of date during that
// day: those recorded after its first instant and at or before its end
// (the start is the previous day's end, whose informe already holds what
// was recorded then) to an alert stream or to the day's roster, log or
// informe stream, in position order, each with its audit summary.
func (h *History) Changes(ctx context.Context, date string) (InformeChanges, error) {
	start, end, err := DayBounds(date, h.loc)
	if err != nil {
		return InformeChanges{}, fmt.Errorf("changes: %w", err)
	}
	out := InformeChanges{Date: date, Changes: []InformeChange{}}
	r := h.replay(date, cut{at: end})
	r.auditAfter = start
	r.onAudit = func(rec *AuditRecord) {
		out.Changes = append(out.Changes, InformeChange{
			Position: rec.Position, RecordedAt: rec.RecordedAt, Stream: rec.Stream, Version: rec.Version,
			Type: rec.Type, Actor: rec.Actor.Username, Summary: rec.Summary,
		})
	}
	if err := r.run(ctx); err != nil {
		return InformeChanges{}, fmt.Errorf("changes of %s: %w", date, err)
	}
	return out, nil
}

// cut is the moment an informe shows: events recorded at or before at,
// and, when upto is not zero, at or before that position.
type cut struct {
	at   time.Time
	upto eventstore.Position
}

func (c cut) includes(ev *eventstore.Event) bool {
	return !ev.RecordedAt.After(c.at) && (c.upto.IsZero() || ev.Position.Compare(c.upto) <= 0)
}

// replay is one fold of the log into a fresh State for one day.
type replay struct {
	h     *History
	cut   cut
	day   [3]string // the day's roster, log and informe streams
	state *State
	// onAudit, when set, receives the audit record of every relevant event
	// recorded after auditAfter; the snapshot is then taken at or before
	// auditAfter, so that the records' "before" sides are right.
	onAudit    func(*AuditRecord)
	auditAfter time.Time
}

func (h *History) replay(date string, c cut) *replay {
	return &replay{
		h: h, cut: c, state: NewState(),
		day: [3]string{domain.RosterStream(date), domain.LogStream(date), domain.InformeStream(date)},
	}
}

// relevant reports whether an event of stream can change the day's
// informe.
func (r *replay) relevant(stream string) bool {
	return strings.HasPrefix(stream, domain.AlertPrefix) || stream == r.day[0] || stream == r.day[1] || stream == r.day[2]
}

// Page sizes of the reads after the snapshot: small first (a past day's
// informe usually has a snapshot at its very end), then larger.
const (
	firstPage = 64
	maxPage   = 4096
)

func (r *replay) run(ctx context.Context) error {
	s := r.state
	var snap Snapshot
	if r.h.snaps != nil {
		at := r.cut.at
		if r.onAudit != nil && r.auditAfter.Before(at) {
			at = r.auditAfter
		}
		found, ok, err := r.h.snaps.Before(ctx, SnapshotVersion, at, r.cut.upto)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			// Snapshots only make it faster: fold from the start instead.
			r.h.log.Warn().Err(err).Msg("snapshot unavailable; folding the log from its start")
		case ok:
			snap = found
		}
	}
	for stream, st := range snap.Alerts {
		s.seed(stream, st)
	}
	if !snap.Position.IsZero() {
		if err := r.dayStreamsBefore(ctx, snap.Position); err != nil {
			return err
		}
	}
	from, page := snap.Position, firstPage
	for {
		evs, err := r.h.store.ReadAll(ctx, from, EventFilter(), page)
		if err != nil {
			return err
		}
		for i := range evs {
			ev := &evs[i]
			if !r.cut.includes(ev) {
				return r.finish(snap)
			}
			if err := r.apply(ctx, ev); err != nil {
				return err
			}
		}
		if len(evs) < page {
			return r.finish(snap)
		}
		from = evs[len(evs)-1].Position
		page = min(4*page, maxPage)
	}
}

// finish sets the state's position to the last event recorded by the cut,
// which the snapshot knows when nothing after it was folded.
func (r *replay) finish(snap Snapshot) error {
	if r.state.position.Compare(snap.Position) < 0 {
		r.state.position = snap.Position
	}
	return nil
}

// dayStreamsBefore folds the events of the day's streams at or before the
// snapshot's position (and within the cut), in position order.
func (r *replay) dayStreamsBefore(ctx context.Context, pos eventstore.Position) error {
	var evs []eventstore.Event
	for _, stream := range r.day {
		all, err := r.h.store.ReadStream(ctx, stream, 0, eventstore.Forwards, 0)
		if err != nil {
			return err
		}
		for i := range all {
			if all[i].Position.Compare(pos) > 0 || !r.cut.includes(&all[i]) {
				break
			}
			evs = append(evs, all[i])
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Position.Compare(evs[j].Position) < 0 })
	for i := range evs {
		if _, _, err := r.state.Apply(evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// apply folds one event after the snapshot: a relevant one with the read
// models' own step, any other only moves the position.
func (r *replay) apply(ctx context.Context, ev *eventstore.Event) error {
	s := r.state
	if !r.relevant(ev.Stream) {
		s.skip(ev.Position)
		return nil
	}
	if s.streams[ev.Stream] == nil {
		st, err := r.h.loadAlert(ctx, ev)
		if err != nil {
			return err
		}
		if st != nil {
			s.seed(ev.Stream, st)
		}
	}
	if r.onAudit != nil && ev.RecordedAt.After(r.auditAfter) {
		_, _, rec, err := s.ApplyAudited(*ev)
		if err != nil {
			return err
		}
		if rec != nil {
			r.onAudit(rec)
		}
		return nil
	}
	_, _, err := s.Apply(*ev)
	return err
}

// loadAlert folds the events of ev's alert stream before ev, read by
// name, for a stream missing from a snapshot (which leaves cancelled alerts
// out). It returns nil when ev is not an alert event or is its stream's
// first.
func (h *History) loadAlert(ctx context.Context, ev *eventstore.Event) (*StreamState, error) {
	if !strings.HasPrefix(ev.Stream, domain.AlertPrefix) || ev.Version == 0 {
		return nil, nil
	}
	evs, err := h.store.ReadStream(ctx, ev.Stream, 0, eventstore.Forwards, int(min(ev.Version, 1<<30)))
	if err != nil {
		return nil, err
	}
	st := &StreamState{}
	for i := range evs {
		if evs[i].Version >= ev.Version || evs[i].Position.Compare(ev.Position) >= 0 {
			break
		}
		e, err := Decode(evs[i])
		if err != nil {
			return nil, err
		}
		st.Apply(evs[i], e)
	}
	return st, nil
}

// seed puts a stream's state in as a snapshot holds it, without applying
// an event or moving the position.
func (s *State) seed(stream string, st *StreamState) {
	s.streams[stream] = st
	s.index(stream, st, nil)
}

// skip moves the position past an event that changes nothing this state
// is asked about.
func (s *State) skip(pos eventstore.Position) {
	if pos.Compare(s.position) > 0 {
		s.position = pos
	}
}

// BoundaryBefore returns the latest day boundary (midnight in History's
// time zone) strictly before t.
func (h *History) BoundaryBefore(t time.Time) time.Time {
	y, m, d := t.In(h.loc).Date()
	b := Midnight(y, m, d, h.loc)
	if !b.Before(t) {
		b = Midnight(y, m, d-1, h.loc)
	}
	return b
}
