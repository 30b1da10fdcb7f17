package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// TestReadAllWalksPositions: whatever the filter, SQLite plans a $all read
// as a walk of the positions after from, never as a search of the stream
// index followed by a sort, which reads every event of the matching
// streams on every page (and on every wake-up of a caught-up subscription).
func TestReadAllWalksPositions(t *testing.T) {
	s, _ := testStore(t)
	for _, prefixes := range [][]string{nil, {"incident-"}, {"incident-", "alert-"}, {""}, {"a\xff"}, {"log-", "", "b"}} {
		for _, upTo := range []bool{false, true} {
			q, args := allSQL(eventstore.Filter{StreamPrefixes: prefixes}, upTo)
			params := []any{int64(0)}
			if upTo {
				params = append(params, int64(100))
			}
			params = append(append(params, args...), 10)
			rows, err := s.reader.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, params...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notUsed int
				var detail string
				if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "; ")
			if !strings.Contains(got, "INTEGER PRIMARY KEY (rowid>?") || strings.Contains(got, "TEMP B-TREE") || strings.Contains(got, "INDEX") {
				t.Errorf("prefixes %q, upTo %v: plan %q, want a search of the positions only", prefixes, upTo, got)
			}
		}
	}
}

// TestReadsReusePreparedStatements: reads do not prepare their SQL again,
// whatever the filter, and a store with more filter shapes than it keeps
// prepared still reads each of them correctly.
func TestReadsReusePreparedStatements(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t)
	for i := range 3 {
		if _, err := s.Append(ctx, fmt.Sprintf("s%d-x", i), eventstore.NoStream, testEvent("a")); err != nil {
			t.Fatal(err)
		}
	}
	filters := make([]eventstore.Filter, 0, maxShapes+8)
	for n := range cap(filters) {
		// n+1 prefixes: a shape of its own.
		prefixes := make([]string, n+1)
		for j := range prefixes {
			prefixes[j] = fmt.Sprintf("s%d-", j%3)
		}
		filters = append(filters, eventstore.Filter{StreamPrefixes: prefixes})
	}
	read := func() {
		for n, f := range filters {
			evs, err := s.ReadAll(ctx, eventstore.Position{}, f, 0)
			if err != nil {
				t.Error(err)
				return
			}
			if want := min(n+1, 3); len(evs) != want {
				t.Errorf("%d prefixes: got %d events, want %d", n+1, len(evs), want)
			}
		}
		for i := range 3 {
			evs, err := s.ReadStream(ctx, fmt.Sprintf("s%d-x", i), 0, eventstore.Forwards, 0)
			if err != nil || len(evs) != 1 {
				t.Errorf("read stream s%d-x: got %d events, %v; want 1", i, len(evs), err)
			}
		}
	}
	read()
	s.reads.mu.Lock()
	kept := make(map[string]bool, len(s.reads.all))
	for q := range s.reads.all {
		kept[q] = true
	}
	s.reads.mu.Unlock()
	if len(kept) != maxShapes {
		t.Fatalf("got %d prepared $all statements, want %d", len(kept), maxShapes)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(read)
	}
	wg.Wait()
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	if len(s.reads.all) != len(kept) {
		t.Errorf("got %d prepared $all statements after reading again, want %d", len(s.reads.all), len(kept))
	}
	for q := range s.reads.all {
		if !kept[q] {
			t.Errorf("prepared again: %q", q)
		}
	}
}
