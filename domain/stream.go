package domain

import "strings"

// Stream name prefixes, one per aggregate type.
const (
	AlertPrefix   = "alert-"
	RosterPrefix  = "roster-"
	LogPrefix     = "log-"
	InformePrefix = "informe-"
	UserPrefix    = "user-"
)

// StreamPrefixes lists every prefix the hub writes, for $all filters.
var StreamPrefixes = []string{AlertPrefix, RosterPrefix, LogPrefix, InformePrefix, UserPrefix}

// AlertStream names an alert's stream.
func AlertStream(id string) string { return AlertPrefix + id }

// RosterStream names a day's roster stream.
func RosterStream(date string) string { return RosterPrefix + date }

// LogStream names a day's log stream.
func LogStream(date string) string { return LogPrefix + date }

// InformeStream names a day's informe stream.
func InformeStream(date string) string { return InformePrefix + date }

// UserStream names a user's stream.
func UserStream(id string) string { return UserPrefix + id }

// NewAggregate returns the empty state for a stream name, or nil when the
// name has no known prefix.
func NewAggregate(stream string) Aggregate {
	switch {
	case strings.HasPrefix(stream, AlertPrefix):
		return &Alert{}
	case strings.HasPrefix(stream, RosterPrefix):
		return &Roster{}
	case strings.HasPrefix(stream, LogPrefix):
		return &Log{}
	case strings.HasPrefix(stream, InformePrefix):
		return &Informe{}
	case strings.HasPrefix(stream, UserPrefix):
		return &User{}
	}
	return nil
}
