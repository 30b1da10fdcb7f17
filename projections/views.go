package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/notice"
)

// Queries is what a read model answers: the rows the API, the live
// snapshots and logging in read. Both read models, projections/memory and
// projections/postgres, implement it, so it is declared here, once, beside
// the row types it returns, rather than by each of its users.
type Queries interface {
	// Alerts lists the alerts of a status: vigente, cancelada or StatusAll.
	Alerts(ctx context.Context, status string) ([]AlertView, error)
	Alert(ctx context.Context, id string) (AlertView, bool, error)
	// Shifts is a day's roster (YYYY-MM-DD); Log its novedades.
	Shifts(ctx context.Context, date string) ([]ShiftView, error)
	Log(ctx context.Context, date string) ([]LogEntryView, error)
	LogEntry(ctx context.Context, id string) (LogEntryView, bool, error)
	UserByName(ctx context.Context, username string) (UserView, bool, error)
	UserByID(ctx context.Context, id string) (UserView, bool, error)
	Users(ctx context.Context) ([]UserView, error)
	Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
}

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

// Change is what applying one event changed in a read model: its row, and
// the territory it concerns now and before. After the event commits, the
// projector hands its notifier the Change's Notice.
type Change struct {
	// Topic is one of notice's topics (notice.TopicAlerts, …) or
	// TopicUsers.
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

// Notice is the change notice c is published as, and false for a change
// that is not published (TopicUsers: user changes are not pushed to
// browsers). Its Data is the row as JSON; Prev is left to the publisher.
func (c Change) Notice() (notice.Message, bool, error) {
	if c.Topic == TopicUsers {
		return notice.Message{}, false, nil
	}
	data, err := json.Marshal(c.Data)
	if err != nil {
		return notice.Message{}, false, fmt.Errorf("notice %s: %w", c.Type, err)
	}
	region, comunas := c.scope()
	return notice.Message{
		Type: c.Type, Topic: c.Topic, Position: c.Position.String(),
		Comunas: comunas, Region: region, Data: data,
	}, true, nil
}

// scope is whom a change's notice must reach: the territory the row
// concerns now and, when the change moved it, the one it concerned before,
// so a display filtered by the old comunas hears that the row left them
// (the row itself shows the new ones, and the display drops it). Region, or
// no comunas at all, reaches every display.
func (c Change) scope() (region bool, comunas []string) {
	switch {
	case c.Region || c.PrevRegion:
		return true, c.Comunas
	case len(c.PrevComunas) == 0 || len(c.Comunas) == 0:
		return false, c.Comunas // not moved, or it now concerns every display
	}
	comunas = make([]string, 0, len(c.Comunas)+len(c.PrevComunas))
	comunas = append(append(comunas, c.Comunas...), c.PrevComunas...)
	slices.Sort(comunas)
	return false, slices.Compact(comunas)
}

// TopicUsers is the topic of user changes. It is the read model's own, not a
// notice.Topic: user changes are never published (Change.Notice). The
// topics that are published are defined once, in package notice.
const TopicUsers = "users"
