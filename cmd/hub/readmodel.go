package main

import (
	"context"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"strings"

	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

// readModel is what serve needs of a read model: the projector writes to
// it, the web layer reads from it and /readyz pings it.
// projections/memory and projections/postgres both satisfy it.
type readModel interface {
	projections.ReadModel
	projections.Queries
	// Ping is the read model's readiness check ("readmodel" in /readyz).
	Ping(ctx context.Context) error
}

var (
	_ readModel = (*memory.ReadModel)(nil)
	_ readModel = (*rmpostgres.ReadModel)(nil)
)

// readModels is the read model HUB_READMODEL names and, beside it, where
// time travel keeps its day snapshots.
type readModels struct {
	model readModel
	// snapshots are in the read model's Postgres schema (shared by the
	// fleet, kept across restarts), or in memory (written again from the
	// log after each start).
	snapshots projections.SnapshotStore
	// close releases the read model (a Postgres pool, and the lease
	// CatchUp took).
	close func() error
}

// openReadModel opens the read model HUB_READMODEL names: in memory
// (rebuilt from the log by the projector's catch-up at every start), or
// in Postgres (migrated on open, shared by every hub instance, kept across
// restarts), with its day snapshots.
func openReadModel(ctx context.Context, c *Config) (readModels, error) {
	if c.readModelKind() == "postgres" {
		m, err := rmpostgres.Open(ctx, c.ReadModel)
		if err != nil {
			return readModels{}, fmt.Errorf("open read model %s: %w", storeurl.Redact(c.ReadModel), err)
		}
		return readModels{model: m, snapshots: m.Snapshots(), close: m.Close}, nil
	}
	return readModels{model: memory.New(), snapshots: memory.NewSnapshots(), close: func() error { return nil }}, nil
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
