package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
)

// A version-1 file's tokens stored without expiry (0 then meant never) get
// the default lifetime from their creation when the hub opens it.
func TestMigrationGivesOldTokensTheDefaultExpiry(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	c := sessiontest.NewClock()
	created := c.Now().Add(-30 * 24 * time.Hour)
	for _, q := range []string{
		`CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
			created_by TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO tokens VALUES ('t1', 'h1', 'muro', 'display', 'u1', ?, 0)`, created.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, path, c.Now)
	list, err := db.Tokens().List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: got %+v, %v", list, err)
	}
	if want := created.Add(auth.DefaultTokenLifetime); !list[0].ExpiresAt.Equal(want) {
		t.Errorf("expires at: got %v, want %v", list[0].ExpiresAt, want)
	}
	c.Advance(auth.DefaultTokenLifetime)
	if list, err := db.Tokens().List(ctx); err != nil || len(list) != 0 {
		t.Errorf("after the default lifetime: got %+v, %v, want none", list, err)
	}
}
