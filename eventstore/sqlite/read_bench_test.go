package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
)

// benchStore opens a store holding streams streams of perStream events
// each, appended round-robin so that a stream's events are spread over the
// log as an incident's are.
func benchStore(b *testing.B, streams, perStream int) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	s := open(b, filepath.Join(b.TempDir(), "events.db"))
	for range perStream {
		for i := range streams {
			if _, err := s.Append(ctx, fmt.Sprintf("incident-%d", i), eventstore.Any, event("bench")); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

// BenchmarkReadStreamTail is command.Handler's Load after a cache hit: the
// events of a stream after the cached version, usually none.
func BenchmarkReadStreamTail(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 50, 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		evs, err := s.ReadStream(ctx, fmt.Sprintf("incident-%d", i%50), 20, eventstore.Forwards, 0)
		if err != nil || len(evs) != 0 {
			b.Fatalf("read stream: %d events, %v", len(evs), err)
		}
	}
}

// BenchmarkReadStreamWhole is a cache miss: a stream from its start.
func BenchmarkReadStreamWhole(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 50, 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		evs, err := s.ReadStream(ctx, fmt.Sprintf("incident-%d", i%50), 0, eventstore.Forwards, 0)
		if err != nil || len(evs) != 20 {
			b.Fatalf("read stream: %d events, %v", len(evs), err)
		}
	}
}

// BenchmarkReadAllHead is a caught-up reader of $all asking for more: no
// events after the head, with and without a prefix filter.
func BenchmarkReadAllHead(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 50, 20)
	head, err := s.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 0)
	if err != nil {
		b.Fatal(err)
	}
	from := head[len(head)-1].Position
	for _, f := range []struct {
		name   string
		filter eventstore.Filter
	}{{"all", eventstore.Filter{}}, {"prefix", eventstore.Filter{StreamPrefixes: []string{"incident-"}}}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				evs, err := s.ReadAll(ctx, from, f.filter, 256)
				if err != nil || len(evs) != 0 {
					b.Fatalf("read all: %d events, %v", len(evs), err)
				}
			}
		})
	}
}
