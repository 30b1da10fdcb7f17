package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// benchData is a payload of the size of a typical alert event.
var benchData = json.RawMessage(`{"hazard":"incendio_forestal","level":"roja","region":false,` +
	`"provincias":["058"],"comunas":["05801","05804"],"title":"Incendio forestal en Quilpué",` +
	`"description":"Alerta Roja por incendio forestal que amenaza zonas habitadas."}`)

// Bench runs the store benchmarks every adapter exposes to go test -bench:
// appends of 1 and of 100 events (each append is one durable commit) and
// paging through $all, plus single-event appends from GOMAXPROCS×4
// goroutines at once, and from 50 (the edits scenario's operators), each
// to a stream of its own, which shows what the store's write serialisation
// costs under contention (or what a group commit saves). newStore returns
// a fresh store and arranges its Close. Each reports events/s besides
// ns/op.
func Bench(b *testing.B, newStore func(tb testing.TB) eventstore.Store) {
	b.Run("append_1", func(b *testing.B) { benchAppend(b, newStore(b), 1) })
	b.Run("append_100", func(b *testing.B) { benchAppend(b, newStore(b), 100) })
	b.Run("append_1_parallel", func(b *testing.B) { benchAppendParallel(b, newStore(b), 4) })
	b.Run("append_1_writers_50", func(b *testing.B) { benchAppendParallel(b, newStore(b), writers50()) })
	b.Run("read_all", func(b *testing.B) { benchReadAll(b, newStore(b)) })
}

func benchEvents(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = eventstore.EventData{
			ID:            eventstore.NewEventID(),
			Type:          "alert.declared",
			Schema:        1,
			Data:          benchData,
			Actor:         eventstore.Actor{ID: "bench", Username: "bench", Role: "system"},
			CorrelationID: "bench",
		}
	}
	return evs
}

func benchAppend(b *testing.B, s eventstore.Store, batch int) {
	ctx := context.Background()
	n := 0
	for b.Loop() {
		if _, err := s.Append(ctx, fmt.Sprintf("alert-%d", n%64), eventstore.Any, benchEvents(batch)...); err != nil {
			b.Fatalf("append: %v", err)
		}
		n++
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
}

// writers50 is the parallelism that makes about 50 goroutines.
func writers50() int { return max(1, 50/runtime.GOMAXPROCS(0)) }

// benchAppendParallel appends from parallelism×GOMAXPROCS goroutines.
func benchAppendParallel(b *testing.B, s eventstore.Store, parallelism int) {
	ctx := context.Background()
	var writer atomic.Int64
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("alert-p%d", writer.Add(1))
		for pb.Next() {
			if _, err := s.Append(ctx, stream, eventstore.Any, benchEvents(1)...); err != nil {
				b.Errorf("append: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchReadAll(b *testing.B, s eventstore.Store) {
	ctx := context.Background()
	const total, page = 10_000, 1000
	for i := range total / 100 {
		if _, err := s.Append(ctx, fmt.Sprintf("alert-%d", i%64), eventstore.Any, benchEvents(100)...); err != nil {
			b.Fatalf("append: %v", err)
		}
	}
	read := 0
	for b.Loop() {
		var from eventstore.Position
		for {
			evs, err := s.ReadAll(ctx, from, eventstore.Filter{}, page)
			if err != nil {
				b.Fatalf("read all: %v", err)
			}
			if len(evs) == 0 {
				break
			}
			read += len(evs)
			from = evs[len(evs)-1].Position
		}
	}
	if read == 0 || read%total != 0 {
		b.Fatalf("read %d events, want a multiple of %d", read, total)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
