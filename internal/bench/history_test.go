package bench

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// BenchmarkHistoryInforme measures time travel over a year of operations:
// 1,000,000 events (HUB_BENCH_HISTORY_EVENTS to change it) written by
// genHistoryYear into an embedded store. Generating it takes minutes, so
// the file is kept in the temporary directory and reused by later runs
// (HUB_BENCH_HISTORY_DB names another file). The snapshotter's pass over
// the year runs once, outside the timings; each op is one random day's
// informe (or changes), with the snapshots and without.
func BenchmarkHistoryInforme(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("HUB_BENCH_HISTORY_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("HUB_BENCH_HISTORY_EVENTS=%q: want a number ≥ 1000", v)
		}
	}
	path := os.Getenv("HUB_BENCH_HISTORY_DB")
	if path == "" {
		path = historyYearPath(n)
	}
	ctx := context.Background()
	var written atomic.Int64
	start := time.Now()
	reused, err := ensureHistoryYear(ctx, path, n, &written)
	if err != nil {
		b.Fatal(err)
	}
	if !reused {
		b.Logf("generated %d events into %s in %s", written.Load(), path, time.Since(start).Round(time.Second))
	}
	store, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		b.Fatal(err)
	}
	snaps := memory.NewSnapshots()
	withSnaps := projections.NewHistory(store, snaps, loc, zerolog.Nop())
	start = time.Now()
	events, made, err := withSnaps.CatchUp(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d day snapshots of %d events in %s", made, events, time.Since(start).Round(time.Millisecond))
	without := projections.NewHistory(store, nil, loc, zerolog.Nop())

	first := projections.Midnight(2025, 1, 1, loc)
	days := made + 1
	randomDay := func(rng *rand.Rand) (date string, start, end time.Time) {
		d := projections.Midnight(first.Year(), first.Month(), first.Day()+rng.IntN(days), loc)
		date = d.Format(time.DateOnly)
		start, end, _ = projections.DayBounds(date, loc)
		return date, start, end
	}
	for _, c := range []struct {
		name string
		do   func(rng *rand.Rand) error
	}{
		{"snapshots/end-of-day", func(rng *rand.Rand) error {
			date, _, end := randomDay(rng)
			_, err := withSnaps.Informe(ctx, date, end, eventstore.Position{})
			return err
		}},
		{"snapshots/random-moment", func(rng *rand.Rand) error {
			date, s, e := randomDay(rng)
			_, err := withSnaps.Informe(ctx, date, s.Add(time.Duration(rng.Int64N(int64(e.Sub(s))))), eventstore.Position{})
			return err
		}},
		{"snapshots/changes", func(rng *rand.Rand) error {
			date, _, _ := randomDay(rng)
			_, err := withSnaps.Changes(ctx, date)
			return err
		}},
		{"no-snapshots/end-of-day", func(rng *rand.Rand) error {
			date, _, end := randomDay(rng)
			_, err := without.Informe(ctx, date, end, eventstore.Position{})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.do(rng); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
