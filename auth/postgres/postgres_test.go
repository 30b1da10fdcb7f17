package postgres_test

import (
	"context"
	"testing"
	"time"

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
