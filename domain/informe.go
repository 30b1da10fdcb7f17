package domain

import "time"

// Informe is the state of one day's ingested informe (informe-<YYYY-MM-DD>):
// the header of the latest version received. Its body becomes alert, shift
// and log commands through package ingest; this aggregate keeps what the
// informe itself said about itself.
type Informe struct {
	Date     string
	Header   *InformeHeader
	Versions int
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

// ReceiveInforme records an ingested informe's header.
type ReceiveInforme struct {
	Header InformeHeader
	At     time.Time
}

func (ReceiveInforme) commandName() string { return "receive_informe" }

// InformeReceived: an informe for the day arrived (upload, mailbox or feed).
type InformeReceived struct {
	InformeHeader
	At time.Time `json:"at"`
}

// EventType implements Event.
func (*InformeReceived) EventType() string { return "informe.received" }

// Decide implements Aggregate.
func (i *Informe) Decide(c Command) ([]Event, error) {
	rc, ok := c.(ReceiveInforme)
	if !ok {
		return nil, ErrUnknownCommand
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
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{&InformeReceived{InformeHeader: h, At: rc.At}}, nil
}

// Apply implements Aggregate.
func (i *Informe) Apply(e Event) {
	if r, ok := e.(*InformeReceived); ok {
		h := r.InformeHeader
		i.Date, i.Header = h.Date, &h
		i.Versions++
	}
}
