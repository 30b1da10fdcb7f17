package esdb

import (
	"context"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/esdb/esdbtest"
)

// TestParseCurrent reads the text the v4 client builds for a wrong
// expected version (client.go, AppendToStream).
func TestParseCurrent(t *testing.T) {
	cases := []struct {
		text           string
		actual         uint64
		exists, parsed bool
	}{
		{"wrong expected version: expecting '3' but got '7'", 7, true, true},
		{"wrong expected version: expecting 'no_stream' but got '0'", 0, true, true},
		{"wrong expected version: expecting 'stream_exists' but got 'no_stream'", 0, false, true},
		{"wrong expected version: expecting 'any' but got '12345678901'", 12345678901, true, true},
		{"wrong expected version: expecting '1' but got '-3'", 0, false, false},
		{"wrong expected version", 0, false, false},
	}
	for _, c := range cases {
		actual, exists, ok := parseCurrent(c.text)
		if actual != c.actual || exists != c.exists || ok != c.parsed {
			t.Errorf("parseCurrent(%q) = %d, %v, %v; want %d, %v, %v", c.text, actual, exists, ok, c.actual, c.exists, c.parsed)
		}
	}
}

// TestLastRevision is the fallback when the client's text cannot be read.
func TestLastRevision(t *testing.T) {
	srv := esdbtest.NewServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, srv.ConnString())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if n, exists, err := s.lastRevision(ctx, "log-1"); err != nil || exists {
		t.Fatalf("missing stream: %d, %v, %v; want not existing", n, exists, err)
	}
	e := eventstore.EventData{ID: eventstore.NewEventID(), Type: "t", Data: []byte(`{}`)}
	f := eventstore.EventData{ID: eventstore.NewEventID(), Type: "t", Data: []byte(`{}`)}
	if _, err := s.Append(ctx, "log-1", eventstore.NoStream, e, f); err != nil {
		t.Fatalf("append: %v", err)
	}
	if n, exists, err := s.lastRevision(ctx, "log-1"); err != nil || !exists || n != 1 {
		t.Fatalf("stream at 1: %d, %v, %v", n, exists, err)
	}
}
