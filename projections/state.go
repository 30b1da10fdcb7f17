package projections

import (
	"sort"
	"strings"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// State is the fold of the event log into every read model's rows: a
// StreamState per stream, and the indexes the queries need. It is not safe
// for concurrent use; read models guard it. The zero value is not ready:
// use NewState.
type State struct {
	position eventstore.Position
	streams  map[string]*StreamState
	alerts   map[string]*AlertState  // by alert ID
	rosters  map[string]*RosterState // by date
	logs     map[string]*domain.Log  // by date
	entryDay map[string]string       // log entry ID → date of its stream
	informes map[string]*domain.Informe
	users    map[string]*UserState // by user ID
	byName   map[string]string     // username → user ID
}

// NewState returns the state of an empty log.
func NewState() *State {
	return &State{
		streams:  map[string]*StreamState{},
		alerts:   map[string]*AlertState{},
		rosters:  map[string]*RosterState{},
		logs:     map[string]*domain.Log{},
		entryDay: map[string]string{},
		informes: map[string]*domain.Informe{},
		users:    map[string]*UserState{},
		byName:   map[string]string{},
	}
}

// Position is the position of the last event applied.
func (s *State) Position() eventstore.Position { return s.position }

// Apply folds one recorded event in and returns the change notice for it.
// An event at or before the state's position was already applied and is
// skipped (ok is false): delivery is at-least-once, apply is idempotent.
func (s *State) Apply(ev eventstore.Event) (c Change, ok bool, err error) {
	if !s.position.IsZero() && ev.Position.Compare(s.position) <= 0 {
		return Change{}, false, nil
	}
	e, err := Decode(ev)
	if err != nil {
		return Change{}, false, err
	}
	s.position = ev.Position
	st := s.streams[ev.Stream]
	if st == nil {
		st = &StreamState{}
		s.streams[ev.Stream] = st
	}
	c, ok = st.Apply(ev, e)
	s.index(ev.Stream, st, e)
	return c, ok, nil
}

// index makes st reachable by the keys the queries use.
func (s *State) index(stream string, st *StreamState, e domain.Event) {
	switch {
	case st.Alert != nil:
		s.alerts[strings.TrimPrefix(stream, domain.AlertPrefix)] = st.Alert
	case st.Roster != nil:
		s.rosters[strings.TrimPrefix(stream, domain.RosterPrefix)] = st.Roster
	case st.Log != nil:
		date := strings.TrimPrefix(stream, domain.LogPrefix)
		s.logs[date] = st.Log
		if add, ok := e.(*domain.LogEntryAdded); ok {
			s.entryDay[add.EntryID] = date
		}
	case st.Informe != nil:
		s.informes[strings.TrimPrefix(stream, domain.InformePrefix)] = st.Informe
	case st.User != nil:
		id := strings.TrimPrefix(stream, domain.UserPrefix)
		s.users[id] = st.User
		s.byName[st.User.User.Username] = id
	}
}

// StatusAll selects alerts of every status.
const StatusAll = "all"

// Alerts returns the alerts of a status ("vigente", "cancelada" or "all"),
// strongest level first, then newest.
func (s *State) Alerts(status string) []AlertView {
	out := make([]AlertView, 0, len(s.alerts))
	for _, r := range s.alerts {
		if status != StatusAll && string(r.Alert.Status) != status {
			continue
		}
		out = append(out, r.View())
	}
	SortAlerts(out)
	return out
}

// SortAlerts orders alerts strongest level first, then newest declaration,
// then ID, so every read model lists them alike.
func SortAlerts(a []AlertView) {
	sort.Slice(a, func(i, j int) bool {
		ri, rj := domain.Level(a[i].Level).Rank(), domain.Level(a[j].Level).Rank()
		if ri != rj {
			return ri > rj
		}
		if !a[i].DeclaredAt.Equal(a[j].DeclaredAt) {
			return a[i].DeclaredAt.After(a[j].DeclaredAt)
		}
		return a[i].ID < a[j].ID
	})
}

// Alert returns one alert.
func (s *State) Alert(id string) (AlertView, bool) {
	r, ok := s.alerts[id]
	if !ok {
		return AlertView{}, false
	}
	return r.View(), true
}

// Shifts returns the day's assigned shifts by start time.
func (s *State) Shifts(date string) []ShiftView {
	row := s.rosters[date]
	if row == nil {
		return []ShiftView{}
	}
	return row.Shifts(date)
}

// Log returns the day's entries in the order they were written.
func (s *State) Log(date string) []LogEntryView {
	out := []LogEntryView{}
	if l := s.logs[date]; l != nil {
		for _, e := range l.Entries {
			out = append(out, LogEntryView{*e})
		}
	}
	return out
}

// LogEntry returns one entry by ID.
func (s *State) LogEntry(id string) (LogEntryView, bool) {
	date, ok := s.entryDay[id]
	if !ok {
		return LogEntryView{}, false
	}
	e := s.logs[date].Entry(id)
	if e == nil {
		return LogEntryView{}, false
	}
	return LogEntryView{*e}, true
}

// Informe returns the header of the day's latest informe.
func (s *State) Informe(date string) (domain.InformeHeader, bool) {
	inf := s.informes[date]
	if inf == nil || inf.Header == nil {
		return domain.InformeHeader{}, false
	}
	return *inf.Header, true
}

// UserByName returns a user by username.
func (s *State) UserByName(username string) (UserView, bool) {
	id, ok := s.byName[domain.NormalizeUsername(username)]
	if !ok {
		return UserView{}, false
	}
	return s.users[id].View(), true
}

// UserByID returns a user by ID.
func (s *State) UserByID(id string) (UserView, bool) {
	r, ok := s.users[id]
	if !ok {
		return UserView{}, false
	}
	return r.View(), true
}

// Users returns every user by username.
func (s *State) Users() []UserView {
	out := make([]UserView, 0, len(s.users))
	for _, r := range s.users {
		out = append(out, r.View())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}
