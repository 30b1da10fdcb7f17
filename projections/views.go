package projections

import (
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// AlertView is an alert as the public API reads it.
type AlertView struct {
	ID           string    `json:"id"`
	Hazard       string    `json:"hazard"`
	Level        string    `json:"level"`
	Status       string    `json:"status"`
	Region       bool      `json:"region"`
	Provincias   []string  `json:"provincias"`
	Comunas      []string  `json:"comunas"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	Resolution   string    `json:"resolution,omitempty"`
	CancelReason string    `json:"cancel_reason,omitempty"`
	DeclaredAt   time.Time `json:"declared_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Version      uint64    `json:"version"`
	UpdatedBy    string    `json:"updated_by"`
}

// NewAlertView renders an alert's state with the envelope of its stream's
// last event (its version and who made it).
func NewAlertView(a *domain.Alert, last eventstore.Event) AlertView {
	return AlertView{
		ID: a.ID, Hazard: string(a.Hazard), Level: string(a.Level), Status: string(a.Status),
		Region: a.Scope.Region, Provincias: nonNil(a.Scope.Provincias), Comunas: nonNil(a.Scope.Comunas),
		Title: a.Title, Description: a.Description, Resolution: a.Resolution, CancelReason: a.CancelReason,
		DeclaredAt: a.DeclaredAt, UpdatedAt: a.UpdatedAt, Version: last.Version, UpdatedBy: last.Actor.Username,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ShiftView is one slot of a day's roster.
type ShiftView struct {
	Date string `json:"date"`
	domain.Shift
	UpdatedBy string `json:"updated_by"`
}

// ShiftChange is the data of a shift change notice: the slot's shift, or
// nil when it was emptied.
type ShiftChange struct {
	Date    string     `json:"date"`
	Slot    string     `json:"slot"`
	Version uint64     `json:"version"`
	Shift   *ShiftView `json:"shift"`
}

// LogEntryView is one novedad.
type LogEntryView struct {
	domain.LogEntry
}

// UserView is a user as the read model keeps it (the hash stays server-side).
type UserView struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Role         string    `json:"role"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
	// Version is the user stream's revision.
	Version uint64 `json:"version"`
}

// Change is the notice the projector hands its notifier after an event is
// applied and committed.
type Change struct {
	// Topic is "alerts", "shifts", "log", "informes" or "users".
	Topic string
	// Type is the message type, e.g. "alert.updated".
	Type     string
	Position eventstore.Position
	// Region and Comunas say which territory the change concerns, for wall
	// display filters (both empty: not territorial).
	Region  bool
	Comunas []string
	// PrevRegion and PrevComunas are the territory the row concerned before
	// this change, when the change may have moved it (an alert's scope, a
	// log entry's correction): a display filtered by the old territory must
	// hear that the row left it. PrevRegion also stands for "no comuna in
	// particular", which every filter passes too. Both empty: not moved.
	PrevRegion  bool
	PrevComunas []string
	// Data is the new read-model row, JSON-encodable.
	Data any
}

// Topics a Change may carry.
const (
	TopicAlerts   = "alerts"
	TopicShifts   = "shifts"
	TopicLog      = "log"
	TopicInformes = "informes"
	TopicUsers    = "users"
)
