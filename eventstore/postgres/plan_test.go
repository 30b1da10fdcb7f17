package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// TestReadAllWalksThePositionIndex: a page of $all, from the start of a
// large log, is planned as a walk of the position index that stops at the
// limit (no sort, no parallel workers), whether the table has statistics
// or not (just after a bulk load) and whether Postgres plans it for its
// parameters or generically (a prepared statement after five runs).
func TestReadAllWalksThePositionIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, testsvc.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// No statistics until the test asks for them.
	if _, err := s.pool.Exec(ctx, `ALTER TABLE es_events SET (autovacuum_enabled = off)`); err != nil {
		t.Fatal(err)
	}
	fill(t, s, 100_000, false)

	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A session of the pool, whose settings change below: taken from the
	// pool and closed rather than returned to it.
	conn := pooled.Hijack()
	defer conn.Close(ctx)
	for _, stats := range []bool{false, true} {
		if stats {
			if _, err := conn.Exec(ctx, `ANALYZE es_events`); err != nil {
				t.Fatal(err)
			}
		}
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
				t.Fatal(err)
			}
			for _, filter := range []eventstore.Filter{{}, {StreamPrefixes: benchPrefixes}, {StreamPrefixes: benchPrefixes[:1]}} {
				for _, upTo := range []bool{false, true} {
					q := allSQL(filter, upTo)
					args := []any{int64(0), int64(4096)}
					if upTo {
						args = append(args, int64(100_000))
					}
					if len(filter.StreamPrefixes) > 0 {
						args = append(args, filter.StreamPrefixes)
					}
					// A prepared statement, as pgx runs the query.
					if _, err := conn.Prepare(ctx, "plan_test", `EXPLAIN `+q); err != nil {
						t.Fatal(err)
					}
					rows, err := conn.Query(ctx, "plan_test", args...)
					if err != nil {
						t.Fatal(err)
					}
					var plan []string
					for rows.Next() {
						var line string
						if err := rows.Scan(&line); err != nil {
							t.Fatal(err)
						}
						plan = append(plan, strings.TrimSpace(line))
					}
					if err := rows.Err(); err != nil {
						t.Fatal(err)
					}
					if err := conn.Deallocate(ctx, "plan_test"); err != nil {
						t.Fatal(err)
					}
					got := strings.Join(plan, "\n")
					if !strings.HasPrefix(got, "Limit") || !strings.Contains(got, "Index Scan using es_events_pkey") ||
						strings.Contains(got, "Sort") || strings.Contains(got, "Gather") || strings.Contains(got, "Bitmap") {
						t.Errorf("statistics %v, %s, prefixes %q, upTo %v: plan\n%s\nwant a walk of the position index under the limit",
							stats, mode, filter.StreamPrefixes, upTo, got)
					}
				}
			}
		}
	}
}
