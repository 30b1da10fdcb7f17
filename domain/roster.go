package domain

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// Roster is the state of one day's duty roster (roster-<YYYY-MM-DD>): a
// shift per slot. A slot is a named position of the day ("am", "pm",
// "noche", "jefe-turno"…) with its own hours.
type Roster struct {
	Date  string
	Slots map[string]*Shift
	// SlotVersions counts the changes of every slot ever touched: a slot's
	// version, which keeps growing when it is unassigned and assigned
	// again. It is exported so that a read model can store a Roster as
	// JSON and resume its fold; its JSON name is the one rows already
	// stored use.
	SlotVersions map[string]uint64 `json:"Revisions"`
}

// Shift is who is on duty in one slot.
type Shift struct {
	Slot      string    `json:"slot"`
	Start     string    `json:"start"`
	End       string    `json:"end"`
	Lead      string    `json:"lead"`
	Operators []string  `json:"operators"`
	Notes     string    `json:"notes"`
	Version   uint64    `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SlotVersion is the slot's version (the number of changes it has had),
// and whether it is currently assigned. It is the slot's ETag.
func (r *Roster) SlotVersion(slot string) (version uint64, assigned bool) {
	_, assigned = r.Slots[slot]
	return r.SlotVersions[slot], assigned
}

// SortedShifts returns the assigned shifts by start time, then slot.
func (r *Roster) SortedShifts() []Shift {
	out := make([]Shift, 0, len(r.Slots))
	for _, s := range r.Slots {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].Slot < out[j].Slot
	})
	return out
}

// AssignShift sets who is on duty in a slot, replacing any previous shift.
type AssignShift struct {
	Date      string
	Slot      string
	Start     string
	End       string
	Lead      string
	Operators []string
	Notes     string
	At        time.Time
}

// UnassignShift empties a slot.
type UnassignShift struct {
	Date   string
	Slot   string
	Reason string
	At     time.Time
}

func (AssignShift) commandName() string   { return "assign_shift" }
func (UnassignShift) commandName() string { return "unassign_shift" }

// ShiftAssigned: a slot's shift, in full.
type ShiftAssigned struct {
	Date      string    `json:"date"`
	Slot      string    `json:"slot"`
	Start     string    `json:"start"`
	End       string    `json:"end"`
	Lead      string    `json:"lead"`
	Operators []string  `json:"operators"`
	Notes     string    `json:"notes,omitempty"`
	At        time.Time `json:"at"`
}

// ShiftUnassigned: a slot was emptied.
type ShiftUnassigned struct {
	Date   string    `json:"date"`
	Slot   string    `json:"slot"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// EventType implements Event.
func (*ShiftAssigned) EventType() string   { return "shift.assigned" }
func (*ShiftUnassigned) EventType() string { return "shift.unassigned" }

var (
	slotPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	datePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// MaxPeople is the most people one shift may list.
const MaxPeople = 20

// The dates the hub accepts (log entries, shifts, informes, the dates of
// queries). The domain has no clock, so the range cannot be "a few years
// around today": it is fixed, wide enough for any real operation of the
// centre (nothing it holds predates 2000) and narrow enough to refuse typing
// slips and probes such as 0000-01-01 or 9999-12-31, which would otherwise
// become streams and days of the informe for good.
const (
	MinDate = "2000-01-01"
	MaxDate = "2099-12-31"
)

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD,
// from MinDate to MaxDate.
func ValidDate(s string) bool { return DateProblem(s) == "" }

// DateProblem says in Spanish what is wrong with a date, "" if nothing: the
// field error for a date ValidDate refuses.
func DateProblem(s string) string {
	if !datePattern.MatchString(s) {
		return "fecha no válida: use AAAA-MM-DD"
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "fecha no válida: use AAAA-MM-DD"
	}
	// YYYY-MM-DD compares as it sorts.
	if s < MinDate || s > MaxDate {
		return "fecha fuera de rango: debe estar entre " + MinDate + " y " + MaxDate
	}
	return ""
}

// checkDate adds a field error when value is not a date ValidDate accepts.
func checkDate(fe fieldErrors, field, value string) {
	if msg := DateProblem(value); msg != "" {
		fe.add(field, msg)
	}
}

// ValidSlot reports whether s is a well-formed slot name.
func ValidSlot(s string) bool { return slotPattern.MatchString(s) }

func minutes(hhmm string) int {
	return int(hhmm[0]-'0')*600 + int(hhmm[1]-'0')*60 + int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
}

// span returns the shift's minutes within its day; a shift whose end is not
// after its start runs past midnight.
func span(start, end string) (int, int) {
	s, e := minutes(start), minutes(end)
	if e <= s {
		e += 24 * 60
	}
	return s, e
}

// Decide implements Aggregate.
func (r *Roster) Decide(c Command) ([]Event, error) {
	switch c := c.(type) {
	case AssignShift:
		return r.assign(c)
	case UnassignShift:
		if _, ok := r.Slots[c.Slot]; !ok {
			return nil, ErrNotFound
		}
		fe := fieldErrors{}
		reason := checkLines(fe, "reason", c.Reason, false, MaxReason)
		if err := fe.err(); err != nil {
			return nil, err
		}
		return []Event{&ShiftUnassigned{Date: c.Date, Slot: c.Slot, Reason: reason, At: c.At}}, nil
	}
	return nil, ErrUnknownCommand
}

func (r *Roster) assign(c AssignShift) ([]Event, error) {
	fe := fieldErrors{}
	checkDate(fe, "date", c.Date)
	if !ValidSlot(c.Slot) {
		fe.add("slot", "nombre de turno no válido: minúsculas, números, - o _ (máximo 32)")
	}
	if !clockPattern.MatchString(c.Start) {
		fe.add("start", "hora no válida: use HH:MM")
	}
	if !clockPattern.MatchString(c.End) {
		fe.add("end", "hora no válida: use HH:MM")
	}
	if c.Start == c.End && clockPattern.MatchString(c.Start) {
		fe.add("end", "el turno debe terminar a una hora distinta de su inicio")
	}
	lead := checkText(fe, "lead", c.Lead, false, 80)
	notes := checkLines(fe, "notes", c.Notes, false, MaxReason)
	var ops []string
	seen := map[string]bool{}
	if lead != "" {
		seen[fold(lead)] = true
	}
	for _, o := range c.Operators {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if len([]rune(o)) > 80 {
			fe.add("operators", "nombre demasiado largo: "+o[:20]+"…")
			continue
		}
		if seen[fold(o)] {
			continue
		}
		seen[fold(o)] = true
		ops = append(ops, o)
	}
	if lead == "" && len(ops) == 0 {
		fe.add("operators", "indique al menos una persona de turno")
	}
	if len(ops)+1 > MaxPeople {
		fe.add("operators", "demasiadas personas en un turno")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if ops == nil {
		ops = []string{}
	}
	s1, e1 := span(c.Start, c.End)
	for slot, other := range r.Slots {
		if slot == c.Slot {
			continue
		}
		s2, e2 := span(other.Start, other.End)
		if s1 >= e2 || s2 >= e1 {
			continue
		}
		for _, p := range append([]string{other.Lead}, other.Operators...) {
			if p != "" && seen[fold(p)] {
				return nil, &RuleError{Code: "shift_overlap", Message: p + " ya está de turno en «" + slot + "» (" + other.Start + "–" + other.End + "), que se superpone con este horario"}
			}
		}
	}
	return []Event{&ShiftAssigned{Date: c.Date, Slot: c.Slot, Start: c.Start, End: c.End, Lead: lead, Operators: ops, Notes: notes, At: c.At}}, nil
}

// Apply implements Aggregate.
func (r *Roster) Apply(e Event) {
	if r.Slots == nil {
		r.Slots = map[string]*Shift{}
	}
	if r.SlotVersions == nil {
		r.SlotVersions = map[string]uint64{}
	}
	switch e := e.(type) {
	case *ShiftAssigned:
		r.Date = e.Date
		r.SlotVersions[e.Slot]++
		r.Slots[e.Slot] = &Shift{Slot: e.Slot, Start: e.Start, End: e.End, Lead: e.Lead, Operators: e.Operators, Notes: e.Notes, Version: r.SlotVersions[e.Slot], UpdatedAt: e.At}
	case *ShiftUnassigned:
		r.Date = e.Date
		r.SlotVersions[e.Slot]++
		delete(r.Slots, e.Slot)
	}
}
