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
	// Limit caps the records returned (default and maximum MaxAuditPage).
	Limit int
}

// MaxAuditPage is the largest page an audit query returns.
const MaxAuditPage = 1000

// Normalize applies the default limit.
func (q AuditQuery) Normalize() AuditQuery {
	if q.Limit <= 0 || q.Limit > MaxAuditPage {
		q.Limit = MaxAuditPage
	}
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
		!q.To.IsZero() && !r.RecordedAt.Before(q.To):
		return false
	case q.Stream == "":
		return true
	case q.StreamIsPrefix():
		return strings.HasPrefix(r.Stream, q.Stream)
	}
	return r.Stream == q.Stream
}

// ApplyAudited is State.Apply that also returns the event's audit record
// (nil when the event was already applied).
func (s *State) ApplyAudited(ev eventstore.Event) (c Change, ok bool, rec *AuditRecord, err error) {
	if !s.position.IsZero() && ev.Position.Compare(s.position) <= 0 {
		return Change{}, false, nil, nil
	}
	e, err := Decode(ev)
	if err != nil {
		return Change{}, false, nil, err
	}
	s.position = ev.Position
	st := s.streams[ev.Stream]
	if st == nil {
		st = &StreamState{}
		s.streams[ev.Stream] = st
	}
	c, ok, r := st.ApplyAudited(ev, e)
	s.index(ev.Stream, st, e)
	return c, ok, &r, nil
}

// ApplyAudited is Apply that also returns the event's audit record, with
// its summary and its diff of the touched row before and after.
func (s *StreamState) ApplyAudited(ev eventstore.Event, e domain.Event) (Change, bool, AuditRecord) {
	before := rowFields(s.auditRow(e))
	c, ok := s.Apply(ev, e)
	after := rowFields(s.auditRow(e))
	r := AuditRecord{
		Position: ev.Position, Stream: ev.Stream, Type: ev.Type, Version: ev.Version, Actor: ev.Actor,
		RecordedAt: ev.RecordedAt.UTC(), CorrelationID: ev.CorrelationID,
		Diff: diffFields(before, after),
	}
	r.Summary = summarize(ev, e, before, after, r.Diff)
	return c, ok, r
}

// auditRow is the row of s that e touches, as it stands now (nil: none).
func (s *StreamState) auditRow(e domain.Event) any {
	switch e := e.(type) {
	case *domain.AlertDeclared, *domain.AlertLevelChanged, *domain.AlertScopeChanged, *domain.AlertDetailsUpdated, *domain.AlertCancelled:
		if s.Alert == nil {
			return nil
		}
		return s.Alert.View()
	case *domain.ShiftAssigned, *domain.ShiftUnassigned:
		if s.Roster == nil {
			return nil
		}
		if sh, ok := s.Roster.Roster.Slots[slotOf(e)]; ok {
			return *sh
		}
		return nil
	case *domain.LogEntryAdded, *domain.LogEntryCorrected:
		if s.Log == nil {
			return nil
		}
		id := ""
		if a, ok := e.(*domain.LogEntryAdded); ok {
			id = a.EntryID
		} else {
			id = e.(*domain.LogEntryCorrected).EntryID
		}
		if en := s.Log.Entry(id); en != nil {
			return *en
		}
		return nil
	case *domain.InformeReceived:
		if s.Informe == nil || s.Informe.Header == nil {
			return nil
		}
		return *s.Informe.Header
	case *domain.UserCreated, *domain.UserRoleChanged, *domain.UserPasswordChanged, *domain.UserDisabled:
		if s.User == nil {
			return nil
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

// summarize says what ev did in one Spanish line.
func summarize(ev eventstore.Event, e domain.Event, before, after map[string]any, d map[string]FieldChange) string {
	who := ev.Actor.Username
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
		return fmt.Sprintf("%s registró el informe %s del %s", who, e.Number, e.Date)
	case *domain.UserCreated:
		return fmt.Sprintf("%s creó el usuario %s con rol %s", who, e.Username, e.Role)
	case *domain.UserRoleChanged:
		return fmt.Sprintf("%s cambió el rol de %s de %s a %s", who, str(row, "username"), e.From, e.To)
	case *domain.UserPasswordChanged:
		return fmt.Sprintf("%s cambió la contraseña de %s", who, str(row, "username"))
	case *domain.UserDisabled:
		return fmt.Sprintf("%s desactivó al usuario %s", who, str(row, "username"))
	}
	return fmt.Sprintf("%s registró %s en %s", who, ev.Type, ev.Stream)
}
