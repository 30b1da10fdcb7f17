package domain

import (
	"time"
)

// Log is the state of one day's operators' log (log-<YYYY-MM-DD>), the
// novedades. Nothing is ever deleted: a correction is a new event and the
// entry keeps its history.
type Log struct {
	Date    string
	Entries []*LogEntry
	// index maps an entry ID to its place in Entries, for the first
	// indexed entries. A Log decoded from JSON (a read model stores one per
	// day) has no index: Entry looks past it, and the next Apply completes
	// it.
	index   map[string]int
	indexed int
}

// LogEntry is one novedad.
type LogEntry struct {
	ID       string   `json:"id"`
	Date     string   `json:"date"`
	Category Category `json:"category"`
	Text     string   `json:"text"`
	Comunas  []string `json:"comunas"`
	AlertID  string   `json:"alert_id,omitempty"`
	// By is the username of whoever wrote the entry.
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Version   uint64    `json:"version"`
	Corrected bool      `json:"corrected"`
	// CorrectedBy, CorrectedAt and Reason describe the latest correction.
	CorrectedBy string    `json:"corrected_by,omitempty"`
	CorrectedAt time.Time `json:"corrected_at,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}

// Entry returns the entry with id, or nil. It does not change l, so
// concurrent readers are safe.
func (l *Log) Entry(id string) *LogEntry {
	// Entries not indexed yet are newer than the indexed ones; the newest
	// entry with an ID wins, as in the index.
	for i := len(l.Entries) - 1; i >= l.indexed; i-- {
		if l.Entries[i].ID == id {
			return l.Entries[i]
		}
	}
	if i, ok := l.index[id]; ok {
		return l.Entries[i]
	}
	return nil
}

// reindex indexes the entries the index does not cover yet.
func (l *Log) reindex() {
	if l.index == nil {
		l.index = make(map[string]int, len(l.Entries))
	}
	for ; l.indexed < len(l.Entries); l.indexed++ {
		l.index[l.Entries[l.indexed].ID] = l.indexed
	}
}

// Category classifies a log entry.
type Category string

// Log categories.
const (
	CategoryNovedad      Category = "novedad"
	CategoryIncidente    Category = "incidente"
	CategoryComunicacion Category = "comunicacion"
	CategoryCoordinacion Category = "coordinacion"
	CategorySistema      Category = "sistema"
)

// Categories lists the log categories.
var Categories = []Category{CategoryNovedad, CategoryIncidente, CategoryComunicacion, CategoryCoordinacion, CategorySistema}

// Valid reports whether c is known.
func (c Category) Valid() bool {
	for _, x := range Categories {
		if x == c {
			return true
		}
	}
	return false
}

// MaxLogText is the longest entry text.
const MaxLogText = 4000

// AddLogEntry writes a novedad.
type AddLogEntry struct {
	EntryID  string
	Date     string
	Category Category
	Text     string
	Comunas  []string
	AlertID  string
	By       string
	At       time.Time
}

// CorrectLogEntry replaces an entry's text (and optionally its category and
// comunas); the original stays in the stream.
type CorrectLogEntry struct {
	EntryID  string
	Category *Category
	Text     string
	Comunas  *[]string
	Reason   string
	By       string
	At       time.Time
}

func (AddLogEntry) commandName() string     { return "add_log_entry" }
func (CorrectLogEntry) commandName() string { return "correct_log_entry" }

// LogEntryAdded: a novedad was written.
type LogEntryAdded struct {
	EntryID  string    `json:"entry_id"`
	Date     string    `json:"date"`
	Category Category  `json:"category"`
	Text     string    `json:"text"`
	Comunas  []string  `json:"comunas"`
	AlertID  string    `json:"alert_id,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// LogEntryCorrected: an entry's content was corrected; the new values in full.
type LogEntryCorrected struct {
	EntryID  string    `json:"entry_id"`
	Category Category  `json:"category"`
	Text     string    `json:"text"`
	Comunas  []string  `json:"comunas"`
	Reason   string    `json:"reason,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// EventType implements Event.
func (*LogEntryAdded) EventType() string     { return "log.entry_added" }
func (*LogEntryCorrected) EventType() string { return "log.entry_corrected" }

func normalizeComunas(fe fieldErrors, in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range in {
		com, ok := LookupComuna(c)
		if !ok {
			fe.add("comunas", "comuna desconocida en la Región de Valparaíso: "+c)
			continue
		}
		if !seen[com.Code] {
			seen[com.Code] = true
			out = append(out, com.Code)
		}
	}
	return out
}

// Decide implements Aggregate.
func (l *Log) Decide(c Command) ([]Event, error) {
	switch c := c.(type) {
	case AddLogEntry:
		fe := fieldErrors{}
		if c.EntryID == "" {
			fe.add("id", "es obligatorio")
		}
		checkDate(fe, "date", c.Date)
		cat := c.Category
		if cat == "" {
			cat = CategoryNovedad
		}
		if !cat.Valid() {
			fe.add("category", "categoría desconocida")
		}
		text := checkLines(fe, "text", c.Text, true, MaxLogText)
		comunas := normalizeComunas(fe, c.Comunas)
		if err := fe.err(); err != nil {
			return nil, err
		}
		if l.Entry(c.EntryID) != nil {
			return nil, &RuleError{Code: "entry_exists", Message: "la novedad ya existe"}
		}
		return []Event{&LogEntryAdded{EntryID: c.EntryID, Date: c.Date, Category: cat, Text: text, Comunas: comunas, AlertID: c.AlertID, By: c.By, At: c.At}}, nil
	case CorrectLogEntry:
		cur := l.Entry(c.EntryID)
		if cur == nil {
			return nil, ErrNotFound
		}
		fe := fieldErrors{}
		cat := cur.Category
		if c.Category != nil {
			cat = *c.Category
			if !cat.Valid() {
				fe.add("category", "categoría desconocida")
			}
		}
		text := checkLines(fe, "text", c.Text, true, MaxLogText)
		reason := checkLines(fe, "reason", c.Reason, false, MaxReason)
		comunas := cur.Comunas
		if c.Comunas != nil {
			comunas = normalizeComunas(fe, *c.Comunas)
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
		if text == cur.Text && cat == cur.Category && equalStrings(comunas, cur.Comunas) {
			return nil, nil
		}
		return []Event{&LogEntryCorrected{EntryID: c.EntryID, Category: cat, Text: text, Comunas: comunas, Reason: reason, By: c.By, At: c.At}}, nil
	}
	return nil, ErrUnknownCommand
}

// Apply implements Aggregate.
func (l *Log) Apply(e Event) {
	l.reindex()
	switch e := e.(type) {
	case *LogEntryAdded:
		l.Date = e.Date
		l.index[e.EntryID] = len(l.Entries)
		l.indexed++
		l.Entries = append(l.Entries, &LogEntry{ID: e.EntryID, Date: e.Date, Category: e.Category, Text: e.Text, Comunas: e.Comunas, AlertID: e.AlertID, By: e.By, At: e.At, Version: 1})
	case *LogEntryCorrected:
		if cur := l.Entry(e.EntryID); cur != nil {
			next := *cur
			next.Category, next.Text, next.Comunas = e.Category, e.Text, e.Comunas
			next.Version++
			next.Corrected, next.CorrectedBy, next.CorrectedAt, next.Reason = true, e.By, e.At, e.Reason
			l.Entries[l.index[e.EntryID]] = &next
		}
	}
}
