package projections

import (
	"fmt"
	"sort"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// State is the fold of the event log into every read model's rows. It is
// not safe for concurrent use; read models guard it. The zero value is not
// ready: use NewState.
type State struct {
	position eventstore.Position
	alerts   map[string]*alertRow
	rosters  map[string]*rosterRow
	logs     map[string]*domain.Log
	entryDay map[string]string
	informes map[string]*domain.Informe
	users    map[string]*userRow
	byName   map[string]string
}

type alertRow struct {
	state domain.Alert
	last  eventstore.Event
}

type rosterRow struct {
	roster domain.Roster
	by     map[string]string
}

type userRow struct {
	state   domain.User
	version uint64
}

// NewState returns the state of an empty log.
func NewState() *State {
	return &State{
		alerts:   map[string]*alertRow{},
		rosters:  map[string]*rosterRow{},
		logs:     map[string]*domain.Log{},
		entryDay: map[string]string{},
		informes: map[string]*domain.Informe{},
		users:    map[string]*userRow{},
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
	e, err := domain.Decode(ev.Type, ev.Schema, ev.Data)
	if err != nil {
		return Change{}, false, fmt.Errorf("apply %s@%d: %w", ev.Stream, ev.Version, err)
	}
	s.position = ev.Position
	c, ok = s.apply(ev, e)
	c.Position = ev.Position
	return c, ok, nil
}

func (s *State) apply(ev eventstore.Event, e domain.Event) (Change, bool) {
	switch e := e.(type) {
	case *domain.AlertDeclared, *domain.AlertLevelChanged, *domain.AlertScopeChanged, *domain.AlertDetailsUpdated, *domain.AlertCancelled:
		id := ev.Stream[len(domain.AlertPrefix):]
		row := s.alerts[id]
		if row == nil {
			row = &alertRow{}
			s.alerts[id] = row
		}
		row.state.Apply(e)
		row.last = ev
		typ := "alert.updated"
		switch e.(type) {
		case *domain.AlertDeclared:
			typ = "alert.declared"
		case *domain.AlertCancelled:
			typ = "alert.cancelled"
		}
		v := NewAlertView(&row.state, ev)
		return Change{Topic: TopicAlerts, Type: typ, Region: v.Region, Comunas: row.state.Scope.ComunaCodes(), Data: v}, true
	case *domain.ShiftAssigned, *domain.ShiftUnassigned:
		date := ev.Stream[len(domain.RosterPrefix):]
		row := s.rosters[date]
		if row == nil {
			row = &rosterRow{by: map[string]string{}}
			s.rosters[date] = row
		}
		row.roster.Apply(e)
		slot := slotOf(e)
		row.by[slot] = ev.Actor.Username
		ver, _ := row.roster.SlotVersion(slot)
		ch := ShiftChange{Date: date, Slot: slot, Version: ver}
		if sh, ok := row.roster.Slots[slot]; ok {
			ch.Shift = &ShiftView{Date: date, Shift: *sh, UpdatedBy: ev.Actor.Username}
		}
		return Change{Topic: TopicShifts, Type: "shift.updated", Data: ch}, true
	case *domain.LogEntryAdded, *domain.LogEntryCorrected:
		date := ev.Stream[len(domain.LogPrefix):]
		l := s.logs[date]
		if l == nil {
			l = &domain.Log{}
			s.logs[date] = l
		}
		l.Apply(e)
		typ, id := "log.added", ""
		switch e := e.(type) {
		case *domain.LogEntryAdded:
			id = e.EntryID
			s.entryDay[id] = date
		case *domain.LogEntryCorrected:
			typ, id = "log.corrected", e.EntryID
		}
		entry := l.Entry(id)
		if entry == nil {
			return Change{}, false
		}
		return Change{Topic: TopicLog, Type: typ, Comunas: entry.Comunas, Data: LogEntryView{*entry}}, true
	case *domain.InformeReceived:
		date := ev.Stream[len(domain.InformePrefix):]
		inf := s.informes[date]
		if inf == nil {
			inf = &domain.Informe{}
			s.informes[date] = inf
		}
		inf.Apply(e)
		return Change{Topic: TopicInformes, Type: "informe.received", Data: *inf.Header}, true
	case *domain.UserCreated, *domain.UserRoleChanged, *domain.UserPasswordChanged, *domain.UserDisabled:
		id := ev.Stream[len(domain.UserPrefix):]
		row := s.users[id]
		if row == nil {
			row = &userRow{}
			s.users[id] = row
		}
		row.state.Apply(e)
		row.version = ev.Version
		s.byName[row.state.Username] = id
		return Change{Topic: TopicUsers, Type: "user.updated", Data: userView(row)}, true
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

func userView(r *userRow) UserView {
	u := r.state
	return UserView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt, PasswordHash: u.PasswordHash, Version: r.version}
}

// StatusAll selects alerts of every status.
const StatusAll = "all"

// Alerts returns the alerts of a status ("vigente", "cancelada" or "all"),
// strongest level first, then newest.
func (s *State) Alerts(status string) []AlertView {
	out := make([]AlertView, 0, len(s.alerts))
	for _, r := range s.alerts {
		if status != StatusAll && string(r.state.Status) != status {
			continue
		}
		out = append(out, NewAlertView(&r.state, r.last))
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
	return NewAlertView(&r.state, r.last), true
}

// Shifts returns the day's assigned shifts by start time.
func (s *State) Shifts(date string) []ShiftView {
	out := []ShiftView{}
	row := s.rosters[date]
	if row == nil {
		return out
	}
	for _, sh := range row.roster.SortedShifts() {
		out = append(out, ShiftView{Date: date, Shift: sh, UpdatedBy: row.by[sh.Slot]})
	}
	return out
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
	return userView(s.users[id]), true
}

// UserByID returns a user by ID.
func (s *State) UserByID(id string) (UserView, bool) {
	r, ok := s.users[id]
	if !ok {
		return UserView{}, false
	}
	return userView(r), true
}

// Users returns every user by username.
func (s *State) Users() []UserView {
	out := make([]UserView, 0, len(s.users))
	for _, r := range s.users {
		out = append(out, userView(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}
