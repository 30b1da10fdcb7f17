package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/auth"
	authpg "github.com/senapred-valparaiso/vigia/auth/postgres"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

func TestTokenStore(t *testing.T) {
	sessiontest.RunTokenStore(t, func(t *testing.T, now func() time.Time) auth.TokenStore {
		s, err := authpg.Open(context.Background(), testsvc.Postgres(t), now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	})
}

// Tokens stored without expiry (0 once meant never) get the default lifetime
// from their creation when the store opens.
func TestOpenGivesOldTokensTheDefaultExpiry(t *testing.T) {
	ctx := context.Background()
	dsn := testsvc.Postgres(t)
	s, err := authpg.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := sessiontest.NewClock()
	created := c.Now().Add(-30 * 24 * time.Hour)
	if _, err := pool.Exec(ctx, `INSERT INTO auth_tokens VALUES ('t1', 'h1', 'muro', 'display', 'u1', $1, 0)`, created.UnixNano()); err != nil {
		t.Fatal(err)
	}
	s, err = authpg.New(ctx, pool, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: got %+v, %v", list, err)
	}
	if want := created.Add(auth.DefaultTokenLifetime); !list[0].ExpiresAt.Equal(want) {
		t.Errorf("expires at: got %v, want %v", list[0].ExpiresAt, want)
	}
}
