// Package memory is the in-memory read model: a projections.State behind a
// read-write lock. It starts empty (checkpoint zero) and is rebuilt from the
// log at every start; that is the embedded default's whole persistence
// story for read models, and rebuilding is fast.
//
// It imports projections, domain and eventstore only.
package memory

import (
	"context"
	"sync"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// ReadModel holds every read model in memory.
type ReadModel struct {
	mu    sync.RWMutex
	state *projections.State
	// audit is the audit index: one source per applied event, in position
	// order, explained when a query returns it (see Audit).
	audit auditIndex
}

var (
	_ projections.ReadModel = (*ReadModel)(nil)
	_ projections.Queries   = (*ReadModel)(nil)
)

// New returns an empty read model.
func New() *ReadModel { return &ReadModel{state: projections.NewState()} }

// Checkpoint implements projections.ReadModel.
func (m *ReadModel) Checkpoint(context.Context) (eventstore.Position, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state.Position(), nil
}

// Apply implements projections.ReadModel.
func (m *ReadModel) Apply(ctx context.Context, events []eventstore.Event) ([]projections.Change, error) {
	return m.ApplyDecoded(ctx, events, nil)
}

// ApplyDecoded is Apply with the events decoded already: decoded[i] is
// events[i]'s domain event, or nil to decode it here (decoded may be nil).
// The projector's catch-up decodes the next batch while this one folds.
func (m *ReadModel) ApplyDecoded(_ context.Context, events []eventstore.Event, decoded []domain.Event) ([]projections.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]projections.Change, 0, len(events))
	for i, ev := range events {
		var e domain.Event
		if decoded != nil {
			e = decoded[i]
		}
		c, ok, src, applied, err := m.state.ApplyTraced(ev, e)
		if err != nil {
			return out, err
		}
		if applied {
			m.audit.add(src)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// Ping implements a readiness check: memory is always there.
func (m *ReadModel) Ping(context.Context) error { return nil }

// Alerts returns alerts of a status ("vigente", "cancelada", "all").
func (m *ReadModel) Alerts(_ context.Context, status string) ([]projections.AlertView, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state.Alerts(status), nil
}

// Alert returns one alert; ok is false when it does not exist.
func (m *ReadModel) Alert(_ context.Context, id string) (projections.AlertView, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.state.Alert(id)
	return a, ok, nil
}

// Shifts returns a day's shifts.
func (m *ReadModel) Shifts(_ context.Context, date string) ([]projections.ShiftView, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state.Shifts(date), nil
}

// Log returns a day's log entries.
func (m *ReadModel) Log(_ context.Context, date string) ([]projections.LogEntryView, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state.Log(date), nil
}

// LogEntry returns one log entry.
func (m *ReadModel) LogEntry(_ context.Context, id string) (projections.LogEntryView, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.state.LogEntry(id)
	return e, ok, nil
}

// Informe returns a day's informe header.
func (m *ReadModel) Informe(_ context.Context, date string) (domain.InformeHeader, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.state.Informe(date)
	return h, ok, nil
}

// UserByName returns a user by username.
func (m *ReadModel) UserByName(_ context.Context, username string) (projections.UserView, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.state.UserByName(username)
	return u, ok, nil
}

// UserByID returns a user by ID.
func (m *ReadModel) UserByID(_ context.Context, id string) (projections.UserView, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.state.UserByID(id)
	return u, ok, nil
}

// Users returns every user.
func (m *ReadModel) Users(context.Context) ([]projections.UserView, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state.Users(), nil
}
