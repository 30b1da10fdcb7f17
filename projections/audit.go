package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// AuditRecord is one row of the audit index: who did what to which stream,
// when, said in one Spanish line, and how the aggregate's row changed. The
// event itself is in the log at Position.
type AuditRecord struct {
	Position      eventstore.Position `json:"position"`
	Stream        string              `json:"stream"`
	Type          string              `json:"type"`
	Version       uint64              `json:"version"`
	Actor         eventstore.Actor    `json:"actor"`
	RecordedAt    time.Time           `json:"recorded_at"`
	CorrelationID string              `json:"correlation_id,omitempty"`
	// Summary is a one-line human account of the change, in Spanish. Read
	// models that cannot compute it leave it empty.
	Summary string `json:"summary,omitempty"`
	// Diff is the field-level change of the aggregate's row the event
	// touched (the alert, the roster slot, the log entry, the informe
	// header, the user), by JSON field name. Bookkeeping fields (version,
	// updated_by, updated_at…) and secrets are left out. A field that did
	// not exist before (or no longer exists) has a null side.
	Diff map[string]FieldChange `json:"diff,omitempty"`
}

// FieldChange is one field's value before and after an event, as JSON values.
type FieldChange struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// AuditQuery selects audit records; zero fields do not filter.
type AuditQuery struct {
	Actor string // username
	// Stream is a stream name, or an aggregate prefix ending in "-"
	// ("alert-", "roster-") selecting every stream of that kind.
	Stream string
	Type   string
	From   time.Time // recorded at or after
	To     time.Time // recorded before
	// After and Before resume a listing: records positioned strictly after
	// (before) them.
	After, Before eventstore.Position
	// Newest lists newest first; otherwise oldest first.
	Newest bool
	// Limit caps the records returned (default MaxAuditPage, maximum
	// MaxAuditPage+1: a caller showing a full page asks for one record
	// more to know whether another page follows).
	Limit int
	// Hide is a stream prefix ending in "-" ("user-") whose records are
	// left out, for readers who may not see that kind of aggregate; empty
	// hides nothing. It applies before Limit, so pages stay full.
	Hide string
}

// MaxAuditPage is the largest page of audit records a client is shown.
const MaxAuditPage = 1000

// Normalize applies the default limit and the cap.
func (q AuditQuery) Normalize() AuditQuery {
	if q.Limit <= 0 {
		q.Limit = MaxAuditPage
	}
	q.Limit = min(q.Limit, MaxAuditPage+1)
	return q
}

// StreamIsPrefix reports whether q.Stream selects an aggregate kind rather
// than one stream.
func (q AuditQuery) StreamIsPrefix() bool { return strings.HasSuffix(q.Stream, "-") }

// Matches reports whether r passes q's filters (not its cursor or limit).
func (q AuditQuery) Matches(r *AuditRecord) bool {
	switch {
	case q.Actor != "" && r.Actor.Username != q.Actor,
		q.Type != "" && r.Type != q.Type,
		!q.From.IsZero() && r.RecordedAt.Before(q.From),
		!q.To.IsZero() && !r.RecordedAt.Before(q.To),
		q.Hide != "" && strings.HasPrefix(r.Stream, q.Hide):
		return false
	case q.Stream == "":
		return true
	case q.StreamIsPrefix():
		return strings.HasPrefix(r.Stream, q.Stream)
	}
	return r.Stream == q.Stream
}

// AuditSource is an audit record before its summary and diff are worked
// out: the record's envelope facts, the decoded event, and the row the
// event touched as it stood before and after. Read models keep sources
// and explain only the records a query returns, so that replaying the log
// costs the audit almost nothing; Explain gives exactly the record an
// eager computation would have.
type AuditSource struct {
	// Record is the record without its Summary and Diff.
	Record AuditRecord
	event  domain.Event
	// before and after are the row: a view value, or a pointer to a value
	// the fold never changes in place (a log entry, a shift and an informe
	// header are replaced, not edited); nil when there is none.
	before, after any
}

// Explain returns the record with its summary and diff. It only reads
// what the source holds, which nothing changes, so it needs no lock.
func (src *AuditSource) Explain() AuditRecord {
	r := src.Record
	before, after := rowFields(src.before), rowFields(src.after)
	r.Diff = diffFields(before, after)
	r.Summary = summarize(&r, src.event, before, after, r.Diff)
	return r
}

// ApplyAudited is State.Apply that also returns the event's audit record
// (nil when the event was already applied).
func (s *State) ApplyAudited(ev eventstore.Event) (c Change, ok bool, rec *AuditRecord, err error) {
	c, ok, src, applied, err := s.ApplyTraced(ev, nil)
	if err != nil || !applied {
		return c, ok, nil, err
	}
	r := src.Explain()
	return c, ok, &r, nil
}

// ApplyTraced is State.Apply with the event decoded already (e nil:
// decode it here), which also returns the source of the event's audit
// record. applied is false when the state had the event already; it then
// returns nothing else.
func (s *State) ApplyTraced(ev eventstore.Event, e domain.Event) (c Change, ok bool, src AuditSource, applied bool, err error) {
	if !s.position.IsZero() && ev.Position.Compare(s.position) <= 0 {
		return Change{}, false, AuditSource{}, false, nil
	}
	if e == nil {
		if e, err = Decode(ev); err != nil {
			return Change{}, false, AuditSource{}, false, err
		}
	}
	s.position = ev.Position
	st := s.streams[ev.Stream]
	if st == nil {
		st = &StreamState{}
		s.streams[ev.Stream] = st
	}
	c, ok, src = st.ApplyTraced(ev, e)
	s.index(ev.Stream, st, e)
	return c, ok, src, true, nil
}

// ApplyAudited is Apply that also returns the event's audit record, with
// its summary and its diff of the touched row before and after.
func (s *StreamState) ApplyAudited(ev eventstore.Event, e domain.Event) (Change, bool, AuditRecord) {
	c, ok, src := s.ApplyTraced(ev, e)
	return c, ok, src.Explain()
}

// ApplyTraced is Apply that also returns the source of the event's audit
// record. It costs a copy of the row where the row is a value the fold
// changes in place (an alert, a user), and nothing else.
func (s *StreamState) ApplyTraced(ev eventstore.Event, e domain.Event) (Change, bool, AuditSource) {
	before := s.auditRow(e, nil)
	c, ok := s.Apply(ev, e)
	after := s.auditRow(e, c.Data)
	return c, ok, AuditSource{Record: NewAuditRecord(ev), event: e, before: before, after: after}
}

// NewAuditRecord is ev's audit record without its summary and diff.
func NewAuditRecord(ev eventstore.Event) AuditRecord {
	return AuditRecord{
		Position: ev.Position, Stream: ev.Stream, Type: ev.Type, Version: ev.Version, Actor: ev.Actor,
		RecordedAt: ev.RecordedAt.UTC(), CorrelationID: ev.CorrelationID,
	}
}

// AuditRowKey names the row of its stream that e touches: a log entry's
// ID, a roster slot, or "" for the stream's one row (an alert, a user, an
// informe). A row's audit sources depend only on the events of its
// stream with the same key, which lets a read model rebuild them from
// those events alone (see AuditReplay).
func AuditRowKey(e domain.Event) string {
	switch e := e.(type) {
	case *domain.ShiftAssigned:
		return e.Slot
	case *domain.ShiftUnassigned:
		return e.Slot
	case *domain.LogEntryAdded:
		return e.EntryID
	case *domain.LogEntryCorrected:
		return e.EntryID
	}
	return ""
}

// AuditReplay rebuilds audit sources from the events of one row (one
// stream and AuditRowKey), in order, from the stream's first event: what
// the fold of the whole stream would have given for them. The zero value
// is ready to use.
type AuditReplay struct {
	st StreamState
}

// Apply folds the row's next event in and returns its audit source.
func (r *AuditReplay) Apply(ev eventstore.Event, e domain.Event) AuditSource {
	_, _, src := r.st.ApplyTraced(ev, e)
	return src
}

// auditRow is the row of s that e touches, as it stands now (nil: none).
// data is the Data of the change e made, when e was just applied: a fresh
// copy of the row for an alert or a user, which it then reuses.
func (s *StreamState) auditRow(e domain.Event, data any) any {
	switch e := e.(type) {
	case *domain.AlertDeclared, *domain.AlertLevelChanged, *domain.AlertScopeChanged, *domain.AlertDetailsUpdated, *domain.AlertCancelled:
		if s.Alert == nil {
			return nil
		}
		if v, ok := data.(AlertView); ok {
			return v
		}
		return s.Alert.View()
	case *domain.ShiftAssigned, *domain.ShiftUnassigned:
		if s.Roster == nil {
			return nil
		}
		if sh, ok := s.Roster.Roster.Slots[slotOf(e)]; ok && sh != nil {
			return sh
		}
		return nil
	case *domain.LogEntryAdded, *domain.LogEntryCorrected:
		if s.Log == nil {
			return nil
		}
		if en := s.Log.Entry(AuditRowKey(e)); en != nil {
			return en
		}
		return nil
	case *domain.InformeReceived:
		if s.Informe == nil || s.Informe.Header == nil {
			return nil
		}
		return s.Informe.Header
	case *domain.UserCreated, *domain.UserRoleChanged, *domain.UserPasswordChanged, *domain.UserDisabled:
		if s.User == nil {
			return nil
		}
		if v, ok := data.(UserView); ok {
			return v
		}
		return s.User.View()
	}
	return nil
}

// bookkeeping are row fields an audit diff leaves out: envelope facts every
// event changes, and who/when, which the record says already.
var bookkeeping = map[string]bool{
	"version": true, "updated_by": true, "updated_at": true,
	"corrected_by": true, "corrected_at": true, "password_hash": true,
}

// rowFields is a row's JSON as a map (nil row: nil map).
func rowFields(row any) map[string]any {
	if row == nil {
		return nil
	}
	raw, err := json.Marshal(row)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil
	}
	return m
}

// diffFields compares two rows field by field; nil when nothing differs.
func diffFields(before, after map[string]any) map[string]FieldChange {
	var out map[string]FieldChange
	add := func(k string, b, a any) {
		if bookkeeping[k] {
			return
		}
		bj, _ := json.Marshal(b)
		aj, _ := json.Marshal(a)
		if bytes.Equal(bj, aj) {
			return
		}
		if out == nil {
			out = map[string]FieldChange{}
		}
		out[k] = FieldChange{Before: b, After: a}
	}
	for k, b := range before {
		add(k, b, after[k])
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			add(k, nil, a)
		}
	}
	return out
}

// fieldLabels are the Spanish names of the fields a summary lists.
var fieldLabels = map[string]string{
	"title": "título", "description": "descripción", "resolution": "resolución", "level": "nivel",
	"hazard": "amenaza", "comunas": "comunas", "provincias": "provincias", "region": "región",
	"status": "estado", "cancel_reason": "motivo de cancelación", "start": "inicio", "end": "término",
	"lead": "encargado", "operators": "operadores", "notes": "notas", "category": "categoría",
	"text": "texto", "reason": "motivo", "corrected": "corregida", "role": "rol", "disabled": "desactivado",
	"display_name": "nombre",
}

// changedList names the changed fields in Spanish, sorted.
func changedList(d map[string]FieldChange) string {
	names := make([]string, 0, len(d))
	for k := range d {
		if l, ok := fieldLabels[k]; ok {
			names = append(names, l)
		} else {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// levelName is a level as a sentence says it ("roja", "temprana preventiva").
func levelName(l domain.Level) string { return strings.ReplaceAll(string(l), "_", " ") }

// quoted shortens a title to 40 characters and puts it in «».
func quoted(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:39])) + "…"
	}
	return "«" + s + "»"
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// summarize says what the event of r did in one Spanish line.
func summarize(r *AuditRecord, e domain.Event, before, after map[string]any, d map[string]FieldChange) string {
	who := r.Actor.Username
	if who == "" {
		who = "el sistema"
	}
	row := after
	if row == nil {
		row = before
	}
	title := quoted(str(row, "title"))
	switch e := e.(type) {
	case *domain.AlertDeclared:
		return fmt.Sprintf("%s declaró la alerta %s %s (%s)", who, levelName(e.Level), title, strings.ToLower(e.Hazard.Label()))
	case *domain.AlertLevelChanged:
		return fmt.Sprintf("%s cambió el nivel de la alerta %s de %s a %s", who, title, levelName(e.From), levelName(e.To))
	case *domain.AlertScopeChanged:
		return fmt.Sprintf("%s cambió el territorio de la alerta %s", who, title)
	case *domain.AlertDetailsUpdated:
		if t, ok := d["title"]; ok {
			b, _ := t.Before.(string)
			return fmt.Sprintf("%s cambió el título de la alerta %s a %s", who, quoted(b), title)
		}
		if len(d) == 0 {
			return fmt.Sprintf("%s editó la alerta %s sin cambios", who, title)
		}
		return fmt.Sprintf("%s editó %s de la alerta %s", who, changedList(d), title)
	case *domain.AlertCancelled:
		return fmt.Sprintf("%s canceló la alerta %s", who, title)
	case *domain.ShiftAssigned:
		if before == nil {
			return fmt.Sprintf("%s asignó el turno %s del %s a %s", who, e.Slot, e.Date, e.Lead)
		}
		return fmt.Sprintf("%s modificó el turno %s del %s (%s)", who, e.Slot, e.Date, changedList(d))
	case *domain.ShiftUnassigned:
		return fmt.Sprintf("%s dejó vacante el turno %s del %s", who, e.Slot, e.Date)
	case *domain.LogEntryAdded:
		return fmt.Sprintf("%s escribió una novedad del %s: %s", who, e.Date, quoted(e.Text))
	case *domain.LogEntryCorrected:
		return fmt.Sprintf("%s corrigió una novedad del %s: %s", who, str(row, "date"), changedList(d))
	case *domain.InformeReceived:
		what := strings.TrimSpace(e.Edition + " " + e.Number)
		if e.Filename != "" {
			return fmt.Sprintf("%s registró el informe %s del %s (%s)", who, what, e.Date, e.Filename)
		}
		return fmt.Sprintf("%s registró el informe %s del %s", who, what, e.Date)
	case *domain.InformeItemDecided:
		if e.Accepted {
			return fmt.Sprintf("%s aceptó del informe %s: %s", who, e.Edition, e.Summary)
		}
		return fmt.Sprintf("%s descartó del informe %s: %s (motivo: %s)", who, e.Edition, e.Summary, e.Reason)
	case *domain.UserCreated:
		return fmt.Sprintf("%s creó el usuario %s con rol %s", who, e.Username, e.Role)
	case *domain.UserRoleChanged:
		return fmt.Sprintf("%s cambió el rol de %s de %s a %s", who, str(row, "username"), e.From, e.To)
	case *domain.UserPasswordChanged:
		return fmt.Sprintf("%s cambió la contraseña de %s", who, str(row, "username"))
	case *domain.UserDisabled:
		return fmt.Sprintf("%s desactivó al usuario %s", who, str(row, "username"))
	}
	return fmt.Sprintf("%s registró %s en %s", who, r.Type, r.Stream)
}
