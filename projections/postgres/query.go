package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

// The read methods answer exactly what projections/memory answers for the
// same log (a test holds them to it): rows are stored as the views the fold
// produced, and ordered as the in-memory State orders them. Text is
// ordered COLLATE "C", byte by byte, as Go compares strings.

// Alerts returns the alerts of a status ("vigente", "cancelada" or "all"),
// strongest level first, then newest.
func (m *ReadModel) Alerts(ctx context.Context, status string) ([]projections.AlertView, error) {
	q := `SELECT view FROM rm_alerts WHERE status = $1`
	args := []any{status}
	if status == projections.StatusAll {
		q, args = `SELECT view FROM rm_alerts`, nil
	}
	out, err := queryViews[projections.AlertView](ctx, m, q, args...)
	if err != nil {
		return nil, fmt.Errorf("alerts %s: %w", status, err)
	}
	projections.SortAlerts(out)
	return out, nil
}

// Alert returns one alert; ok is false when it does not exist.
func (m *ReadModel) Alert(ctx context.Context, id string) (projections.AlertView, bool, error) {
	v, ok, err := queryView[projections.AlertView](ctx, m, `SELECT view FROM rm_alerts WHERE id = $1`, id)
	if err != nil {
		return v, false, fmt.Errorf("alert %s: %w", id, err)
	}
	return v, ok, nil
}

// Shifts returns a day's assigned shifts by start time, then slot.
func (m *ReadModel) Shifts(ctx context.Context, date string) ([]projections.ShiftView, error) {
	out, err := queryViews[projections.ShiftView](ctx, m,
		`SELECT view FROM rm_shifts WHERE date = $1 ORDER BY start COLLATE "C", slot COLLATE "C"`, date)
	if err != nil {
		return nil, fmt.Errorf("shifts %s: %w", date, err)
	}
	return out, nil
}

// Log returns a day's log entries in the order they were written.
func (m *ReadModel) Log(ctx context.Context, date string) ([]projections.LogEntryView, error) {
	out, err := queryViews[projections.LogEntryView](ctx, m,
		`SELECT view FROM rm_log WHERE date = $1 ORDER BY seq_commit, seq_prepare`, date)
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", date, err)
	}
	return out, nil
}

// LogEntry returns one log entry (of the day it was last added to).
func (m *ReadModel) LogEntry(ctx context.Context, id string) (projections.LogEntryView, bool, error) {
	v, ok, err := queryView[projections.LogEntryView](ctx, m,
		`SELECT view FROM rm_log WHERE id = $1 ORDER BY seq_commit DESC, seq_prepare DESC LIMIT 1`, id)
	if err != nil {
		return v, false, fmt.Errorf("log entry %s: %w", id, err)
	}
	return v, ok, nil
}

// Informe returns the header of the day's latest informe.
func (m *ReadModel) Informe(ctx context.Context, date string) (domain.InformeHeader, bool, error) {
	v, ok, err := queryView[domain.InformeHeader](ctx, m, `SELECT view FROM rm_informes WHERE date = $1`, date)
	if err != nil {
		return v, false, fmt.Errorf("informe %s: %w", date, err)
	}
	return v, ok, nil
}

// UserByName returns a user by username.
func (m *ReadModel) UserByName(ctx context.Context, username string) (projections.UserView, bool, error) {
	u, ok, err := m.user(ctx, `WHERE username = $1 ORDER BY last_commit DESC, last_prepare DESC LIMIT 1`, domain.NormalizeUsername(username))
	if err != nil {
		return u, false, fmt.Errorf("user %s: %w", username, err)
	}
	return u, ok, nil
}

// UserByID returns a user by ID.
func (m *ReadModel) UserByID(ctx context.Context, id string) (projections.UserView, bool, error) {
	u, ok, err := m.user(ctx, `WHERE id = $1`, id)
	if err != nil {
		return u, false, fmt.Errorf("user %s: %w", id, err)
	}
	return u, ok, nil
}

func (m *ReadModel) user(ctx context.Context, where string, arg any) (projections.UserView, bool, error) {
	var (
		u    projections.UserView
		raw  []byte
		hash string
	)
	if m.isClosed() {
		return u, false, errClosed
	}
	err := m.pool.QueryRow(ctx, `SELECT view, password_hash FROM rm_users `+where, arg).Scan(&raw, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, m.fail(err)
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, false, err
	}
	u.PasswordHash = hash
	return u, true, nil
}

// Users returns every user by username.
func (m *ReadModel) Users(ctx context.Context) ([]projections.UserView, error) {
	if m.isClosed() {
		return nil, fmt.Errorf("users: %w", errClosed)
	}
	out := []projections.UserView{}
	rows, err := m.pool.Query(ctx, `SELECT view, password_hash FROM rm_users ORDER BY username COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", m.fail(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u    projections.UserView
			raw  []byte
			hash string
		)
		if err := rows.Scan(&raw, &hash); err != nil {
			return nil, fmt.Errorf("users: %w", m.fail(err))
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		u.PasswordHash = hash
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", m.fail(err))
	}
	return out, nil
}

// AuditRecord and AuditQuery are the shapes both read models share.
type (
	AuditRecord = projections.AuditRecord
	AuditQuery  = projections.AuditQuery
)

// queryViews decodes the one json column of each row into a T; the result
// is never nil.
func queryViews[T any](ctx context.Context, m *ReadModel, q string, args ...any) ([]T, error) {
	if m.isClosed() {
		return nil, errClosed
	}
	rows, err := m.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, m.fail(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, m.fail(err)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, m.fail(err)
	}
	return out, nil
}

// queryView decodes the json column of the one row q selects, if any.
func queryView[T any](ctx context.Context, m *ReadModel, q string, args ...any) (T, bool, error) {
	var v T
	if m.isClosed() {
		return v, false, errClosed
	}
	var raw []byte
	err := m.pool.QueryRow(ctx, q, args...).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, m.fail(err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, err
	}
	return v, true, nil
}
