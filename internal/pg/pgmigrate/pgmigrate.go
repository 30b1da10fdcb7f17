// Package pgmigrate applies versioned SQL migrations to a Postgres schema:
// the one mechanism behind the event store's and the read model's schemas.
// It imports nothing of ours.
package pgmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Set names one schema's migrations: the files dir/NNNN_name.sql of fsys,
// numbered from 1 without gaps, recorded in Table, applied under an
// advisory lock derived from LockKey and the connection's current schema.
type Set struct {
	FS      fs.FS
	Dir     string
	Table   string
	LockKey string
}

type migration struct {
	version int
	name    string
	sql     string
}

func (s Set) load() ([]migration, error) {
	names, err := fs.Glob(s.FS, s.Dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql numbered from 1 without gaps", base)
		}
		b, err := fs.ReadFile(s.FS, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	return ms, nil
}

// Apply applies the migrations the connection's current schema lacks, in
// one transaction under the advisory lock, so instances starting together
// apply each exactly once and a failed migration leaves the schema as it
// was. A schema newer than the files is refused. Errors are the driver's,
// unwrapped by category, for the caller to classify.
func (s Set) Apply(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := s.load()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || current_schema(), 0))`, s.LockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+pgx.Identifier{s.Table}.Sanitize()+` (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var applied int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+pgx.Identifier{s.Table}.Sanitize()).Scan(&applied); err != nil {
			return err
		}
		if applied > len(ms) {
			return fmt.Errorf("schema version %d is newer than this hub's (%d)", applied, len(ms))
		}
		for _, m := range ms[applied:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{s.Table}.Sanitize()+` (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
}
