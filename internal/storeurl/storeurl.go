// Package storeurl is the one reading of an event store's connection
// string: which adapter it names, where the embedded store keeps its file,
// how to open it, and how to print it without its password. The hub
// (cmd/hub) and its load generator (internal/bench) both open stores from
// the same strings, so they share this.
package storeurl

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/senapred-valparaiso/vigia/eventstore"
	esdbstore "github.com/senapred-valparaiso/vigia/eventstore/esdb"
	pgstore "github.com/senapred-valparaiso/vigia/eventstore/postgres"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
)

// Kinds of event store.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
	ESDB     = "esdb"
)

// Kind names the adapter u selects: SQLite (empty or sqlite:), Postgres,
// ESDB, or "" when u is not understood.
func Kind(u string) string {
	switch {
	case u == "", strings.HasPrefix(u, "sqlite:"):
		return SQLite
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return Postgres
	case strings.HasPrefix(u, "esdb://"), strings.HasPrefix(u, "esdb+discover://"):
		return ESDB
	}
	return ""
}

// SQLitePath is the file of the embedded store u names: sqlite:///path or
// sqlite:path, else events.db in dataDir.
func SQLitePath(u, dataDir string) string {
	if p, ok := strings.CutPrefix(u, "sqlite://"); ok {
		return p
	}
	if p, ok := strings.CutPrefix(u, "sqlite:"); ok {
		return p
	}
	return filepath.Join(dataDir, "events.db")
}

// Open opens the event store u names, with now as its clock. The embedded
// store re-reads its file every second, so changes another process makes
// (hub user add) reach a running hub.
func Open(ctx context.Context, u, dataDir string, now func() time.Time) (eventstore.Store, error) {
	var (
		s   eventstore.Store
		err error
	)
	switch Kind(u) {
	case ESDB:
		s, err = esdbstore.Open(ctx, u)
	case Postgres:
		s, err = pgstore.Open(ctx, u, pgstore.WithClock(now))
	case SQLite:
		s, err = sqlite.Open(SQLitePath(u, dataDir), sqlite.WithClock(now), sqlite.WithPollInterval(time.Second))
	default:
		return nil, fmt.Errorf("event store %q: want empty, sqlite://, postgres:// or esdb://", Redact(u))
	}
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", Redact(u), err)
	}
	return s, nil
}

// Redact hides the password in a connection URL.
func Redact(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}
