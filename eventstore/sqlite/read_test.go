package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
)

// TestReadAllPrefixesAreExact: a prefix filter, which SQLite evaluates as
// a range of stream names, selects exactly the streams that start with
// the prefix: not their neighbours in byte order, nor a stream named like
// the prefix without its last character.
func TestReadAllPrefixesAreExact(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	streams := []string{"alert", "alert-", "alert-1", "alert-ñandú", "alert-\U0001F600", "alert.1", "alert,1", "alerta-1", "Alert-1",
		"log-2026-01-15", "log-", "log", "log.x", "logs-1", "#x", "%x", "&x", "x", "\u00e9-1", "\u00e9-\u00e9"}
	for _, st := range streams {
		if _, err := s.Append(ctx, st, eventstore.Any, eventstore.EventData{ID: eventstore.NewEventID(), Type: "t", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefixes := range [][]string{{"alert-"}, {"log-", "alert-"}, {"alert"}, {"\u00e9-"}, {"%"}, {"x"}, {"#", "&"}, nil} {
		evs, err := s.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{StreamPrefixes: prefixes}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, e := range evs {
			got = append(got, e.Stream)
		}
		for _, st := range streams {
			if len(prefixes) == 0 || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(st, p) }) {
				want = append(want, st)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("prefixes %q: got %q, want %q", prefixes, got, want)
		}
	}
}
