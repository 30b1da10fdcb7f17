package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// fill appends n events to store: alerts edited, log entries added and
// corrected, shifts assigned, a day at a time. It returns them in order,
// as the store reads them back.
func fill(tb testing.TB, store eventstore.Store, n int) []eventstore.Event {
	tb.Helper()
	ctx := context.Background()
	actor := eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	written := 0
	add := func(stream string, evs ...domain.Event) {
		data := make([]eventstore.EventData, 0, len(evs))
		for _, e := range evs {
			if written == n {
				break
			}
			typ, schema, raw, err := domain.Encode(e)
			if err != nil {
				tb.Fatal(err)
			}
			data = append(data, eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw, Actor: actor, CorrelationID: "test"})
			written++
		}
		if len(data) == 0 {
			return
		}
		if _, err := store.Append(ctx, stream, eventstore.Any, data...); err != nil {
			tb.Fatal(err)
		}
	}
	for d := 0; written < n; d++ {
		date := at.AddDate(0, 0, d%30).Format(time.DateOnly)
		id := fmt.Sprintf("a%d", d)
		add(domain.AlertStream(id),
			&domain.AlertDeclared{AlertID: id, Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Provincias: []string{"051"}, Title: "Marejadas " + id, At: at},
			&domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: at},
			&domain.AlertDetailsUpdated{Title: "Marejadas anormales " + id, At: at})
		var log []domain.Event
		for e := range 40 {
			entry := fmt.Sprintf("e%d-%d", d, e)
			log = append(log, &domain.LogEntryAdded{EntryID: entry, Date: date, Category: domain.CategoryNovedad, Text: "Novedad " + entry, By: "ana", At: at})
			if e%5 == 4 {
				log = append(log, &domain.LogEntryCorrected{EntryID: entry, Category: domain.CategoryIncidente, Text: "Corregida " + entry, By: "ana", At: at})
			}
		}
		add(domain.LogStream(date), log...)
		add(domain.RosterStream(date), &domain.ShiftAssigned{Date: date, Slot: "dia", Start: "08:00", End: "20:00", Lead: fmt.Sprintf("Jefa %d", d), At: at})
	}
	evs, err := store.ReadAll(ctx, eventstore.Position{}, projections.EventFilter(), 0)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

func newStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "events.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestCatchUpIsTheFold: catching up through the projector's pipeline
// (pages read ahead, decoded ahead, applied in batches) gives the model
// that applying the log one event at a time gives: the same answers, the
// same audit records, the same checkpoint.
func TestCatchUpIsTheFold(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	evs := fill(t, store, 5000) // more than two of catch-up's pages
	caught := memory.New()
	n, err := projections.NewProjector(store, caught, nil, zerolog.Nop(), projections.WithBatchSize(100)).CatchUp(ctx)
	if err != nil || n != len(evs) {
		t.Fatalf("caught up %d events (%v), want %d", n, err, len(evs))
	}
	one := memory.New()
	for _, ev := range evs {
		if _, err := one.Apply(ctx, []eventstore.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := dump(t, caught), dump(t, one); got != want {
		t.Fatalf("caught up:\n%.3000s\none at a time:\n%.3000s", got, want)
	}
}

// TestCatchUpStopsAtAnEventItCannotDecode: an event that does not decode
// stops the catch-up with an error naming it, after every event before
// it was applied, and none after it.
func TestCatchUpStopsAtAnEventItCannotDecode(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	evs := fill(t, store, 3000)
	if _, err := store.Append(ctx, domain.AlertStream("a1"), eventstore.Any, eventstore.EventData{
		ID: eventstore.NewEventID(), Type: "alert.level_changed", Schema: 1, Data: json.RawMessage(`{"to": 5}`), CorrelationID: "test",
	}); err != nil {
		t.Fatal(err)
	}
	fill(t, store, 1000)
	m := memory.New()
	_, err := projections.NewProjector(store, m, nil, zerolog.Nop()).CatchUp(ctx)
	if err == nil || !strings.Contains(err.Error(), domain.AlertStream("a1")) {
		t.Fatalf("got %v, want an error naming the stream of the bad event", err)
	}
	cp, _ := m.Checkpoint(ctx)
	if want := evs[len(evs)-1].Position; cp != want {
		t.Fatalf("checkpoint %s, want %s (the event before the bad one)", cp, want)
	}
	recs, _ := m.Audit(ctx, projections.AuditQuery{Newest: true, Limit: 1})
	if len(recs) != 1 || recs[0].Position != evs[len(evs)-1].Position {
		t.Fatalf("newest audit record %+v, want the event before the bad one", recs)
	}
}

// dump is every answer the model gives, as JSON.
func dump(tb testing.TB, m *memory.ReadModel) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	put := func(v any, err error) {
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(raw)
		b.WriteByte('\n')
	}
	put(m.Checkpoint(ctx))
	put(m.Alerts(ctx, projections.StatusAll))
	for d := range 30 {
		date := time.Date(2026, 1, 15+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		put(m.Log(ctx, date))
		put(m.Shifts(ctx, date))
	}
	for q := (projections.AuditQuery{}); ; {
		page, err := m.Audit(ctx, q)
		put(page, err)
		if len(page) == 0 {
			break
		}
		q.After = page[len(page)-1].Position
	}
	return b.String()
}
