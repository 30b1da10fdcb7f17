package postgres

import (
	"context"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
)

// benchPrefixes are the hub's stream prefixes (domain.StreamPrefixes, which
// this package may not import): the filter of a rebuild or a projector.
var benchPrefixes = []string{"alert-", "roster-", "log-", "informe-", "user-"}

// fill writes n events straight into the store's tables, spread over
// 1000 streams of the prefixes above, moves the head past them and, with
// analyze, gathers the table's statistics.
func fill(tb testing.TB, s *Store, n int, analyze bool) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO es_events (position, id, stream, version, type, schema, data,
		actor_id, actor_username, actor_role, correlation_id, causation_id, recorded_at)
		SELECT i, gen_random_uuid(), ($2::text[])[1 + i % 5] || (i % 1000), i / 1000, 'bench.event', 1,
			('{"kind":"bench","n":' || i || '}')::json, 'u', 'u', 'system', '', '', now()
		FROM generate_series(1, $1::bigint) AS i`, n, benchPrefixes); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE es_head SET position = $1`, n); err != nil {
		tb.Fatal(err)
	}
	if !analyze {
		return
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE es_events`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReadAllPages reads a 200k-event log from its start in pages of
// 4096 with the hub's filter, as a rebuild does: well past the five
// executions after which Postgres may switch a prepared statement to a
// generic plan.
func BenchmarkReadAllPages(b *testing.B) {
	const events, page = 200_000, 4096
	s, err := Open(context.Background(), testsvc.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	fill(b, s, events, false)
	ctx := context.Background()
	filter := eventstore.Filter{StreamPrefixes: benchPrefixes}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var from eventstore.Position
		read := 0
		for {
			evs, err := s.ReadAll(ctx, from, filter, page)
			if err != nil {
				b.Fatal(err)
			}
			read += len(evs)
			if len(evs) < page {
				break
			}
			from = evs[len(evs)-1].Position
		}
		if read != events {
			b.Fatalf("read %d events, want %d", read, events)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
