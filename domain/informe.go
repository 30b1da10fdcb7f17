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
}

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
	rc, ok := c.(ReceiveInforme)
	if !ok {
		return nil, ErrUnknownCommand
	}
	if rc.Edition.SHA256 != "" && i.has(rc.Edition.SHA256) {
		return nil, nil // the same file again: already recorded
	}
	fe := fieldErrors{}
	if !ValidDate(rc.Header.Date) {
		fe.add("date", "fecha no válida: use AAAA-MM-DD")
	}
	h := rc.Header
	h.Title = checkText(fe, "title", h.Title, true, MaxTitle)
	h.Number = checkText(fe, "number", h.Number, false, 40)
	h.Source = checkText(fe, "source", h.Source, true, 80)
	h.Summary = checkText(fe, "summary", h.Summary, false, MaxDescription)
	ed := rc.Edition
	checkEdition(fe, &ed)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&InformeReceived{InformeHeader: h, InformeEdition: ed, At: rc.At}}, nil
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
	if r, ok := e.(*InformeReceived); ok {
		h := r.InformeHeader
		i.Date, i.Header = h.Date, &h
		i.Versions++
		i.Received = append(i.Received, InformeReceipt{InformeEdition: r.InformeEdition, Source: r.Source, ReceivedAt: r.At})
	}
}
