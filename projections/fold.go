package projections

import (
	"fmt"
	"strings"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/notice"
)

// StreamState is the fold of one stream as every read model keeps it: the
// domain aggregate, plus what the views show beyond it (who made the last
// change, the stream's version). Exactly one field is set, by the first
// event applied; which one depends on the event types, not on the stream
// name.
//
// StreamState.Apply is the one per-event step of every read model: the
// in-memory State keeps a StreamState per stream in a map, the Postgres
// read model keeps it as JSON in a table keyed by stream and loads it
// before applying. A StreamState is therefore JSON-serialisable, and a
// decoded one folds on exactly as the original would have.
type StreamState struct {
	Alert   *AlertState     `json:"alert,omitempty"`
	Roster  *RosterState    `json:"roster,omitempty"`
	Log     *domain.Log     `json:"log,omitempty"`
	Informe *domain.Informe `json:"informe,omitempty"`
	User    *UserState      `json:"user,omitempty"`
}

// AlertState is an alert stream's fold.
type AlertState struct {
	Alert domain.Alert `json:"alert"`
	// Version and UpdatedBy come from the envelope of the stream's last
	// event: the alert's ETag and who changed it last.
	Version   uint64 `json:"version"`
	UpdatedBy string `json:"updated_by"`
}

// View renders the alert as the API reads it.
func (a *AlertState) View() AlertView {
	return NewAlertView(&a.Alert, eventstore.Event{Version: a.Version, Actor: eventstore.Actor{Username: a.UpdatedBy}})
}

// RosterState is a day roster stream's fold.
type RosterState struct {
	Roster domain.Roster `json:"roster"`
	// By maps a slot to the username of whoever changed it last.
	By map[string]string `json:"by"`
}

// Shifts renders the day's assigned shifts, by start time then slot.
func (r *RosterState) Shifts(date string) []ShiftView {
	out := []ShiftView{}
	for _, sh := range r.Roster.SortedShifts() {
		out = append(out, ShiftView{Date: date, Shift: sh, UpdatedBy: r.By[sh.Slot]})
	}
	return out
}

// UserState is a user stream's fold.
type UserState struct {
	User domain.User `json:"user"`
	// Version is the user stream's revision.
	Version uint64 `json:"version"`
}

// View renders the user as the read model keeps it.
func (u *UserState) View() UserView {
	x := u.User
	return UserView{ID: x.ID, Username: x.Username, DisplayName: x.DisplayName, Role: x.Role, Disabled: x.Disabled, CreatedAt: x.CreatedAt, PasswordHash: x.PasswordHash, Version: u.Version}
}

// Decode turns a recorded event into its domain event (upcast to the
// current schema).
func Decode(ev eventstore.Event) (domain.Event, error) {
	e, err := domain.Decode(ev.Type, ev.Schema, ev.Data)
	if err != nil {
		return nil, fmt.Errorf("apply %s@%d: %w", ev.Stream, ev.Version, err)
	}
	return e, nil
}

// Apply folds e, the decoded form of ev (an event of this state's stream),
// in and returns the change notice for it, whose Data is the new read-model
// row: an AlertView, a ShiftChange, a LogEntryView, an InformeHeader or a
// UserView. ok is false when the event changes no row. It does not check
// positions: skipping what was already applied is the caller's job.
func (s *StreamState) Apply(ev eventstore.Event, e domain.Event) (c Change, ok bool) {
	c, ok = s.apply(ev, e)
	c.Position = ev.Position
	return c, ok
}

func (s *StreamState) apply(ev eventstore.Event, e domain.Event) (Change, bool) {
	switch e := e.(type) {
	case *domain.AlertDeclared, *domain.AlertLevelChanged, *domain.AlertScopeChanged, *domain.AlertDetailsUpdated, *domain.AlertCancelled:
		if s.Alert == nil {
			s.Alert = &AlertState{}
		}
		a := s.Alert
		prev := a.Alert.Scope // Apply replaces the scope; it never edits it in place
		a.Alert.Apply(e)
		a.Version, a.UpdatedBy = ev.Version, ev.Actor.Username
		typ := "alert.updated"
		switch e.(type) {
		case *domain.AlertDeclared:
			typ = "alert.declared"
		case *domain.AlertCancelled:
			typ = "alert.cancelled"
		}
		v := a.View()
		c := Change{Topic: notice.TopicAlerts, Type: typ, Region: v.Region, Comunas: a.Alert.Scope.ComunaCodes(), Data: v}
		if _, moved := e.(*domain.AlertScopeChanged); moved {
			c.PrevComunas = prev.ComunaCodes()
			c.PrevRegion = prev.Region || len(c.PrevComunas) == 0
		}
		return c, true
	case *domain.ShiftAssigned, *domain.ShiftUnassigned:
		date := strings.TrimPrefix(ev.Stream, domain.RosterPrefix)
		if s.Roster == nil {
			s.Roster = &RosterState{By: map[string]string{}}
		}
		r := s.Roster
		r.Roster.Apply(e)
		slot := slotOf(e)
		if r.By == nil {
			r.By = map[string]string{}
		}
		r.By[slot] = ev.Actor.Username
		ver, _ := r.Roster.SlotVersion(slot)
		ch := ShiftChange{Date: date, Slot: slot, Version: ver}
		if sh, ok := r.Roster.Slots[slot]; ok {
			ch.Shift = &ShiftView{Date: date, Shift: *sh, UpdatedBy: ev.Actor.Username}
		}
		return Change{Topic: notice.TopicShifts, Type: "shift.updated", Data: ch}, true
	case *domain.LogEntryAdded, *domain.LogEntryCorrected:
		if s.Log == nil {
			s.Log = &domain.Log{}
		}
		l := s.Log
		var prev []string // a correction's comunas before it
		prevAll := false  // before it, the entry concerned no comuna in particular
		if e, ok := e.(*domain.LogEntryCorrected); ok {
			if cur := l.Entry(e.EntryID); cur != nil {
				prev, prevAll = cur.Comunas, len(cur.Comunas) == 0
			}
		}
		l.Apply(e)
		typ, id := "log.added", ""
		switch e := e.(type) {
		case *domain.LogEntryAdded:
			id = e.EntryID
		case *domain.LogEntryCorrected:
			typ, id = "log.corrected", e.EntryID
		}
		entry := l.Entry(id)
		if entry == nil {
			return Change{}, false
		}
		return Change{Topic: notice.TopicLog, Type: typ, Comunas: entry.Comunas, PrevRegion: prevAll, PrevComunas: prev, Data: LogEntryView{*entry}}, true
	case *domain.InformeReceived:
		if s.Informe == nil {
			s.Informe = &domain.Informe{}
		}
		s.Informe.Apply(e)
		return Change{Topic: notice.TopicInformes, Type: "informe.received", Data: *s.Informe.Header}, true
	case *domain.InformeItemDecided:
		if s.Informe == nil {
			s.Informe = &domain.Informe{}
		}
		s.Informe.Apply(e)
		return Change{Topic: notice.TopicInformes, Type: "informe.item_decided", Data: e.ItemDecision}, true
	case *domain.UserCreated, *domain.UserRoleChanged, *domain.UserPasswordChanged, *domain.UserDisabled:
		if s.User == nil {
			s.User = &UserState{}
		}
		s.User.User.Apply(e)
		s.User.Version = ev.Version
		return Change{Topic: TopicUsers, Type: "user.updated", Data: s.User.View()}, true
	}
	return Change{}, false
}

func slotOf(e domain.Event) string {
	switch e := e.(type) {
	case *domain.ShiftAssigned:
		return e.Slot
	case *domain.ShiftUnassigned:
		return e.Slot
	}
	return ""
}
