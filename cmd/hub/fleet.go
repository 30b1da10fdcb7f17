package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	authmem "github.com/senapred-valparaiso/vigia/auth/memory"
	authredis "github.com/senapred-valparaiso/vigia/auth/redis"
	"github.com/senapred-valparaiso/vigia/realtime"
	rtmemory "github.com/senapred-valparaiso/vigia/realtime/memory"
	rtredis "github.com/senapred-valparaiso/vigia/realtime/redis"
)

// fleet is what hub instances share so that it does not matter which one
// answers: the change-notice broker, the sessions and the login throttle.
// With HUB_BROKER=memory (one instance) the broker is in-process, sessions
// stay in the data dir's SQLite file and the throttle in memory.
type fleet struct {
	broker   realtime.Broker
	sessions auth.SessionStore // nil: the embedded SQLite sessions
	limiter  auth.Limiter
	soft     auth.Limiter // per-username and per-address keys, auth.SoftLimitPolicy
	redis    *goredis.Client
}

// openFleet connects what HUB_BROKER names. An unreachable Redis is not
// fatal: the event store is the truth, edits go on, the broker reconnects
// and clients are told they are degraded meanwhile.
func openFleet(ctx context.Context, c *Config, log zerolog.Logger, now func() time.Time) (*fleet, error) {
	if c.Broker == "memory" {
		return &fleet{broker: rtmemory.New(rtmemory.Options{}), limiter: authmem.NewLimiter(auth.DefaultLimitPolicy, now),
			soft: authmem.NewLimiter(auth.SoftLimitPolicy, now)}, nil
	}
	opts, err := goredis.ParseURL(c.Broker)
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", storeurl.Redact(c.Broker), err)
	}
	client := goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		log.Warn().Err(err).Str("broker", storeurl.Redact(c.Broker)).Msg("redis unreachable at start; live updates degraded until it answers")
	}
	prefix := c.RedisPrefix
	return &fleet{
		broker: rtredis.New(client, log, rtredis.Options{Prefix: prefix}),
		// A short Redis outage must not log out operators who are working.
		sessions: auth.NewFallbackSessions(authredis.NewSessionStore(client, prefix, now), 10*time.Minute, now),
		limiter:  authredis.NewLimiter(client, prefix, auth.DefaultLimitPolicy, now),
		soft:     authredis.NewLimiter(client, cmp.Or(prefix, authredis.DefaultPrefix)+"soft:", auth.SoftLimitPolicy, now),
		redis:    client,
	}, nil
}

// ping is the /readyz check of the broker.
func (f *fleet) ping(ctx context.Context) error {
	if f.redis == nil {
		return nil
	}
	return f.redis.Ping(ctx).Err()
}

// Close closes the broker and the Redis connection.
func (f *fleet) Close() error {
	err := f.broker.Close()
	if f.redis != nil {
		err = errors.Join(err, f.redis.Close())
	}
	return err
}

// isRedisURL reports whether a broker setting names Redis.
func isRedisURL(s string) bool {
	return strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://")
}
