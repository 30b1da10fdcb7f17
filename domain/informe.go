package domain

import (
	"encoding/json"
	"strings"
	"time"
)

// Where an informe came from (InformeHeader.Source of informes recorded by
// the intake; informes recorded before schema 2 may name others).
const (
	SourceUpload  = "upload"  // an operator uploaded the .docx
	SourceMailbox = "mailbox" // the mailbox poller took it from an e-mail
	SourceImport  = "import"  // brought over from the old system
)

// The editions of the daily informe.
const (
	EditionAM = "AM"
	EditionPM = "PM"
)

// MaxInformeContent bounds the content an informe event may carry (the
// parsed sections of a real informe take a few KiB).
const MaxInformeContent = 512 << 10

// Informe is the state of one day's informe stream (informe-<YYYY-MM-DD>):
// every document received for the day, and the header of the latest.
type Informe struct {
	Date   string
	Header *InformeHeader
	// Versions counts the documents received for the day.
	Versions int
	// Received lists them in the order they were recorded: two editions
	// (AM, PM) and any corrections (a different file for an edition
	// already received: both are kept, the later is that edition's current
	// one).
	Received []InformeReceipt
	// Decisions are the operators' decisions on the reconciliation items
	// of the day's informes, by DecisionKey.
	Decisions map[string]ItemDecision
}

// ItemDecision is an operator's decision on one reconciliation item: the
// difference between an informe and the board was applied to the board
// (Accepted, with the alert it changed) or dismissed with a reason.
type ItemDecision struct {
	SHA256   string    `json:"sha256"`
	Edition  string    `json:"edition,omitempty"`
	ItemID   string    `json:"item_id"`
	Kind     string    `json:"kind"`
	Summary  string    `json:"summary"`
	Accepted bool      `json:"accepted"`
	Reason   string    `json:"reason,omitempty"`
	AlertID  string    `json:"alert_id,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// DecisionKey keys a decision: the informe (its SHA-256) and the item.
func DecisionKey(sha256, itemID string) string { return strings.ToLower(sha256) + "/" + itemID }

// InformeReceipt is one received document as the day keeps it: the
// edition, where it came from and when it was recorded.
type InformeReceipt struct {
	InformeEdition
	Source     string    `json:"source"`
	ReceivedAt time.Time `json:"received_at"`
}

// InformeHeader is what identifies a received informe.
type InformeHeader struct {
	Date     string    `json:"date"`
	Number   string    `json:"number"`
	Title    string    `json:"title"`
	Source   string    `json:"source"`
	IssuedAt time.Time `json:"issued_at"`
	Summary  string    `json:"summary"`
}

// InformeEdition is one received document of a day: which edition it is,
// the file it came in and everything it says (Content, the parsed
// sections: alertas, emergencias, avisos, …; see package ingest).
type InformeEdition struct {
	Edition  string          `json:"edition,omitempty"`
	Time     string          `json:"time,omitempty"` // HH:MM, as the informe states it
	Filename string          `json:"filename,omitempty"`
	SHA256   string          `json:"sha256,omitempty"`
	Sender   string          `json:"sender,omitempty"`  // mailbox only
	Subject  string          `json:"subject,omitempty"` // mailbox only
	Warnings []string        `json:"warnings,omitempty"`
	Content  json.RawMessage `json:"content,omitempty"`
}

// ReceiveInforme records a received informe. Receiving the same file
// (same SHA256) again records nothing.
type ReceiveInforme struct {
	Header  InformeHeader
	Edition InformeEdition
	At      time.Time
}

func (ReceiveInforme) commandName() string { return "receive_informe" }

// DecideItem records a decision on a reconciliation item of one of the
// day's informes. An item is decided once.
type DecideItem struct {
	Decision ItemDecision
}

func (DecideItem) commandName() string { return "decide_informe_item" }

// InformeItemDecided: an operator accepted (the board was changed as the
// informe says) or dismissed one difference between an informe and the
// board.
type InformeItemDecided struct {
	ItemDecision
}

// EventType implements Event.
func (*InformeItemDecided) EventType() string { return "informe.item_decided" }

// InformeReceived: an informe for the day arrived (upload, mailbox or
// import). Schema 2 added the edition and the content; schema 1 payloads
// are upcast (edition and time from issued_at, no content).
type InformeReceived struct {
	InformeHeader
	InformeEdition
	At time.Time `json:"at"`
}

// EventType implements Event.
func (*InformeReceived) EventType() string { return "informe.received" }

func init() {
	CurrentSchema["informe.received"] = 2
	upcasters["informe.received"] = map[int]func(json.RawMessage) (json.RawMessage, error){1: upcastInformeV1}
}

// upcastInformeV1 derives a schema-1 informe's edition and time from the
// moment it was issued, in the offset it was recorded with: before noon is
// the AM edition.
func upcastInformeV1(raw json.RawMessage) (json.RawMessage, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if s, ok := v["issued_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && !t.IsZero() {
			v["time"] = t.Format("15:04")
			v["edition"] = EditionAM
			if t.Hour() >= 12 {
				v["edition"] = EditionPM
			}
		}
	}
	return json.Marshal(v)
}

// Decide implements Aggregate.
func (i *Informe) Decide(c Command) ([]Event, error) {
	if d, ok := c.(DecideItem); ok {
		return i.decideItem(d)
	}
	rc, ok := c.(ReceiveInforme)
	if !ok {
		return nil, ErrUnknownCommand
	}
	if rc.Edition.SHA256 != "" && i.has(rc.Edition.SHA256) {
		return nil, nil // the same file again: already recorded
	}
	fe := fieldErrors{}
	checkDate(fe, "date", rc.Header.Date)
	h := rc.Header
	h.Title = checkText(fe, "title", h.Title, true, MaxTitle)
	h.Number = checkText(fe, "number", h.Number, false, 40)
	h.Source = checkText(fe, "source", h.Source, true, 80)
	h.Summary = checkLines(fe, "summary", h.Summary, false, MaxDescription)
	ed := rc.Edition
	checkEdition(fe, &ed)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&InformeReceived{InformeHeader: h, InformeEdition: ed, At: rc.At}}, nil
}

func (i *Informe) decideItem(c DecideItem) ([]Event, error) {
	d := c.Decision
	if !i.has(d.SHA256) {
		return nil, ErrNotFound
	}
	if _, done := i.Decisions[DecisionKey(d.SHA256, d.ItemID)]; done {
		return nil, &RuleError{Code: "already_decided", Message: "ya se decidió sobre esta diferencia"}
	}
	fe := fieldErrors{}
	d.ItemID = checkText(fe, "item", d.ItemID, true, 80)
	d.Summary = checkLines(fe, "summary", d.Summary, false, MaxDescription)
	d.Reason = checkLines(fe, "reason", d.Reason, !d.Accepted, MaxReason)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&InformeItemDecided{ItemDecision: d}}, nil
}

func checkEdition(fe fieldErrors, ed *InformeEdition) {
	if ed.Edition != "" && ed.Edition != EditionAM && ed.Edition != EditionPM {
		fe.add("edition", "edición no válida: AM o PM")
	}
	if ed.Time != "" {
		if _, err := time.Parse("15:04", ed.Time); err != nil || len(ed.Time) != 5 {
			fe.add("time", "hora no válida: use HH:MM")
		}
	}
	if ed.SHA256 != "" && !isHex(ed.SHA256, 64) {
		fe.add("sha256", "huella SHA-256 no válida")
	}
	ed.Filename = checkText(fe, "filename", ed.Filename, false, 255)
	ed.Sender = checkText(fe, "sender", ed.Sender, false, 320)
	ed.Subject = checkText(fe, "subject", ed.Subject, false, MaxTitle)
	if len(ed.Content) > 0 {
		var obj map[string]json.RawMessage
		switch {
		case len(ed.Content) > MaxInformeContent:
			fe.add("content", "el contenido del informe es demasiado grande")
		case json.Unmarshal(ed.Content, &obj) != nil:
			fe.add("content", "el contenido del informe debe ser un objeto JSON")
		}
	}
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

func (i *Informe) has(sha string) bool {
	for _, r := range i.Received {
		if strings.EqualFold(r.SHA256, sha) {
			return true
		}
	}
	return false
}

// Apply implements Aggregate.
func (i *Informe) Apply(e Event) {
	if d, ok := e.(*InformeItemDecided); ok {
		if i.Decisions == nil {
			i.Decisions = map[string]ItemDecision{}
		}
		i.Decisions[DecisionKey(d.SHA256, d.ItemID)] = d.ItemDecision
		return
	}
	if r, ok := e.(*InformeReceived); ok {
		h := r.InformeHeader
		i.Date, i.Header = h.Date, &h
		i.Versions++
		i.Received = append(i.Received, InformeReceipt{InformeEdition: r.InformeEdition, Source: r.Source, ReceivedAt: r.At})
	}
}
