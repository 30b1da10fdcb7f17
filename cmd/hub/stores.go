package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	authpg "github.com/senapred-valparaiso/vigia/auth/postgres"
	authsqlite "github.com/senapred-valparaiso/vigia/auth/sqlite"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// stores are the durable things every command opens: the event store and
// the sessions/tokens database.
type stores struct {
	events eventstore.Store
	authDB *authsqlite.DB
	// tokens are in authDB on one instance, in the read-model database
	// (HUB_READMODEL=postgres://) for a fleet, so every instance accepts them.
	tokens   auth.TokenStore
	pgTokens *authpg.TokenStore
}

// openStores opens what Config points at. The embedded store re-reads its
// file every second so that changes made by another hub process (hub user
// add, hub token create) reach a running hub.
func openStores(ctx context.Context, c *Config, now func() time.Time) (*stores, error) {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", c.DataDir, err)
	}
	events, err := openEventStore(ctx, c, now)
	if err != nil {
		return nil, err
	}
	authDB, err := authsqlite.Open(ctx, filepath.Join(c.DataDir, "sessions.db"), now)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open sessions: %w", err), events.Close())
	}
	st := &stores{events: events, authDB: authDB, tokens: authDB.Tokens()}
	if strings.HasPrefix(c.ReadModel, "postgres") {
		pg, err := authpg.Open(ctx, c.ReadModel, now)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open token store %s: %w", storeurl.Redact(c.ReadModel), err), st.Close())
		}
		st.tokens, st.pgTokens = pg, pg
	}
	return st, nil
}

// openEventStore opens the store HUB_EVENTSTORE names.
func openEventStore(ctx context.Context, c *Config, now func() time.Time) (eventstore.Store, error) {
	return storeurl.Open(ctx, c.EventStore, c.DataDir, now)
}

func (s *stores) Close() error {
	if s.pgTokens != nil {
		s.pgTokens.Close()
	}
	return errors.Join(s.events.Close(), s.authDB.Close())
}

// systemMeta is the actor of changes the hub makes on its own.
func systemMeta(name string) command.Meta {
	return command.Meta{Actor: eventstore.Actor{ID: "system:" + name, Username: name, Role: "system"}, CorrelationID: name}
}

// ensureUser creates a user unless the username is taken; it reports
// whether it created one.
func ensureUser(ctx context.Context, cmds *command.Handler, meta command.Meta, params auth.Params, username, display, role, password string) (bool, error) {
	if err := auth.ValidatePassword(password); err != nil {
		return false, fmt.Errorf("password of %s: %w", username, err)
	}
	hash, err := params.Hash(password)
	if err != nil {
		return false, err
	}
	_, err = cmds.CreateUser(ctx, meta, username, display, role, hash)
	var re *domain.RuleError
	if errors.As(err, &re) && re.Code == "user_exists" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create user %s: %w", username, err)
	}
	return true, nil
}

// bootstrapAdmin creates the first admin from HUB_ADMIN_USER and
// HUB_ADMIN_PASSWORD; an existing user of that name is left as it is.
func bootstrapAdmin(ctx context.Context, c *Config, cmds *command.Handler, params auth.Params, log zerolog.Logger) error {
	if c.AdminUser == "" {
		return nil
	}
	created, err := ensureUser(ctx, cmds, systemMeta("bootstrap"), params, c.AdminUser, "Administrador", string(auth.Admin), c.AdminPassword)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created {
		log.Info().Str("username", c.AdminUser).Msg("first admin created")
	}
	return nil
}
