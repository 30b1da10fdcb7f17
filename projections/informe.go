package projections

import (
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// InformeView is one day's informe rebuilt from the log: the region as it
// stood at AsOf (the end of the day in the centre's time zone, or a chosen
// moment). It is what GET /api/informes/{date} answers and what the PDF
// report prints.
type InformeView struct {
	// Date is the informe's day, YYYY-MM-DD in America/Santiago.
	Date string `json:"date"`
	// AsOf is the moment the informe shows: events recorded at or before it
	// are folded in, later ones are not.
	AsOf time.Time `json:"as_of"`
	// Position is the position of the last event folded in (zero when the
	// log was empty at AsOf).
	Position eventstore.Position `json:"position"`
	// UpTo, when set, is the position the informe was cut at besides AsOf
	// (?upto=): events after it are left out even if recorded before AsOf.
	// The timeline steps through a day's changes with it.
	UpTo *eventstore.Position `json:"upto,omitempty"`
	// Alerts are the alerts in force (vigentes) at AsOf, strongest level
	// first, then newest declaration.
	Alerts []AlertView `json:"alerts"`
	// Shifts are the day's assigned shifts, by start time.
	Shifts []ShiftView `json:"shifts"`
	// Log are the day's novedades in the order they were written, as
	// corrected up to AsOf.
	Log []LogEntryView `json:"log"`
	// Header is the ingested informe's header, when one arrived for the day
	// by AsOf.
	Header *domain.InformeHeader `json:"header"`
	// Received are the documents received for the day by AsOf (editions
	// and corrections, in the order they were recorded, each with its
	// parsed content); the last of an edition is its current one.
	Received []domain.InformeReceipt `json:"received"`
}

// InformeView renders the state as the informe of date. The state must hold
// exactly the events recorded up to asOf: the caller decides what was
// folded in, this only reads.
func (s *State) InformeView(date string, asOf time.Time) InformeView {
	v := InformeView{
		Date:     date,
		AsOf:     asOf,
		Position: s.position,
		Alerts:   s.Alerts(string(domain.StatusVigente)),
		Shifts:   s.Shifts(date),
		Log:      s.Log(date),
	}
	if h, ok := s.Informe(date); ok {
		v.Header = &h
	}
	v.Received = []domain.InformeReceipt{}
	if i := s.informes[date]; i != nil {
		v.Received = append(v.Received, i.Received...)
	}
	return v
}
