package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/internal/pg/pgmigrate"
)

// migrationFS holds the schema migrations, NNNN_name.sql, applied in order.
// Add new files; never edit one that has shipped. A migration that changes
// an rm_ table may as well empty it and reset rm_checkpoint: the projector
// then rebuilds it from the log.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate applies the read model's migrations that the connection's
// current schema lacks, recording each in rm_schema_migrations. It runs in
// one transaction under an advisory lock keyed by the schema, so hub
// instances starting together apply each migration exactly once, and a
// failed migration leaves the schema as it was. Open calls it; `hub
// migrate` calls it on its own before a rollout.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	set := pgmigrate.Set{FS: migrationFS, Dir: "migrations", Table: "rm_schema_migrations", LockKey: "vigia/readmodel/migrate/"}
	if err := set.Apply(ctx, pool); err != nil {
		return fmt.Errorf("migrate read model: %w", classify(err))
	}
	return nil
}
