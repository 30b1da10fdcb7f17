package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
)

// BenchmarkSessionGet is the store's half of authenticating a request
// whose session the auth Service has not cached: one indexed SELECT.
// parallel runs it on every core, as a burst of requests does, which is
// where the connection pool's size shows.
//
//	go test -run '^$' -bench SessionGet -benchmem ./auth/sqlite
func BenchmarkSessionGet(b *testing.B) {
	ctx := context.Background()
	db := open(b, filepath.Join(b.TempDir(), "sessions.db"), time.Now)
	sess, err := auth.SessionPolicy{}.NewSession("u1", "ana", auth.Operator, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	store := db.Sessions()
	if err := store.Create(ctx, sess); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := store.Get(ctx, sess.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(50) // many requests in flight per core
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := store.Get(ctx, sess.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
