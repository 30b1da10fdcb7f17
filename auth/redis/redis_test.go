package redis_test

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/senapred-valparaiso/vigia/auth"
	authredis "github.com/senapred-valparaiso/vigia/auth/redis"
	"github.com/senapred-valparaiso/vigia/auth/sessiontest"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

func client(t *testing.T) (goredis.UniversalClient, string) {
	t.Helper()
	addr, prefix := testsvc.Redis(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c, prefix
}

func TestSessionStore(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) auth.SessionStore {
		c, prefix := client(t)
		return authredis.NewSessionStore(c, prefix, now)
	})
}

func TestLimiter(t *testing.T) {
	sessiontest.RunLimiter(t, func(t *testing.T, p auth.LimitPolicy, now func() time.Time) auth.Limiter {
		c, prefix := client(t)
		return authredis.NewLimiter(c, prefix, p, now)
	})
}
