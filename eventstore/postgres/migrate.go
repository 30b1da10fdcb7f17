package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/internal/pg/pgmigrate"
)

// migrationFS holds the schema migrations, NNNN_name.sql, applied in order.
// Add new files; never edit one that has shipped.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate applies the event store's migrations that the connection's
// current schema lacks, recording each in es_schema_migrations. It runs in
// one transaction under an advisory lock keyed by the schema, so hub
// instances starting together apply each migration exactly once, and a
// failed migration leaves the schema as it was. Open calls it; `hub` can
// call it on its own before a rollout.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	set := pgmigrate.Set{FS: migrationFS, Dir: "migrations", Table: "es_schema_migrations", LockKey: "vigia/eventstore/migrate/"}
	if err := set.Apply(ctx, pool); err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	return nil
}
