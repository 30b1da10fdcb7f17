package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

// readModel is what serve needs of a read model: the projector writes to
// it, the web layer reads from it (the methods of web's reads interface)
// and /readyz pings it. projections/memory and projections/postgres both
// satisfy it.
type readModel interface {
	projections.ReadModel
	Alerts(ctx context.Context, status string) ([]projections.AlertView, error)
	Alert(ctx context.Context, id string) (projections.AlertView, bool, error)
	Shifts(ctx context.Context, date string) ([]projections.ShiftView, error)
	Log(ctx context.Context, date string) ([]projections.LogEntryView, error)
	LogEntry(ctx context.Context, id string) (projections.LogEntryView, bool, error)
	UserByName(ctx context.Context, username string) (projections.UserView, bool, error)
	UserByID(ctx context.Context, id string) (projections.UserView, bool, error)
	Users(ctx context.Context) ([]projections.UserView, error)
	Audit(ctx context.Context, q projections.AuditQuery) ([]projections.AuditRecord, error)
	// Ping is the read model's readiness check ("readmodel" in /readyz).
	Ping(ctx context.Context) error
}

var (
	_ readModel = (*memory.ReadModel)(nil)
	_ readModel = (*rmpostgres.ReadModel)(nil)
)

// openReadModel opens the read model HUB_READMODEL names: in memory
// (rebuilt from the log by the projector's catch-up at every start), or
// in Postgres (migrated on open, shared by every hub instance, kept across
// restarts).
func openReadModel(ctx context.Context, c *Config) (readModel, func() error, error) {
	if c.readModelKind() == "postgres" {
		m, err := rmpostgres.Open(ctx, c.ReadModel)
		if err != nil {
			return nil, nil, fmt.Errorf("open read model %s: %w", redact(c.ReadModel), err)
		}
		return m, m.Close, nil
	}
	return memory.New(), func() error { return nil }, nil
}

// readModelKind names the read model HUB_READMODEL selects: memory,
// postgres, or "" when the value is not understood.
func (c *Config) readModelKind() string {
	switch {
	case c.ReadModel == "memory":
		return "memory"
	case strings.HasPrefix(c.ReadModel, "postgres://"), strings.HasPrefix(c.ReadModel, "postgresql://"):
		return "postgres"
	}
	return ""
}

// snapshotStore is where time travel keeps its day snapshots: beside the
// read model, in its Postgres schema (shared by the fleet, kept across
// restarts), or in memory (written again from the log after each start).
func snapshotStore(model readModel) projections.SnapshotStore {
	if m, ok := model.(*rmpostgres.ReadModel); ok {
		return m.Snapshots()
	}
	return memory.NewSnapshots()
}
