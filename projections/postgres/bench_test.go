package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// history appends a year of a busy centre's log to store: every day a
// roster of four slots with changes, thirty novedades with corrections,
// an informe, alerts declared, edited and cancelled; a few users. Streams
// are appended a day at a time, interleaved by day. It returns the number
// of events.
func history(tb testing.TB, store eventstore.Store, days int) int {
	tb.Helper()
	ctx := context.Background()
	actor := eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}
	n := 0
	appendAll := func(stream string, evs ...domain.Event) {
		data := make([]eventstore.EventData, len(evs))
		for i, e := range evs {
			typ, schema, raw, err := domain.Encode(e)
			if err != nil {
				tb.Fatal(err)
			}
			data[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw, Actor: actor, CorrelationID: "bench"}
		}
		if _, err := store.Append(ctx, stream, eventstore.Any, data...); err != nil {
			tb.Fatal(err)
		}
		n += len(evs)
	}
	for u := 0; u < 20; u++ {
		id := fmt.Sprintf("u%02d", u)
		appendAll(domain.UserStream(id), &domain.UserCreated{UserID: id, Username: fmt.Sprintf("op%02d", u), Role: "operator", PasswordHash: "x"}, &domain.UserRoleChanged{From: "operator", To: "supervisor"})
	}
	start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	var open []string
	for d := 0; d < days; d++ {
		day := start.AddDate(0, 0, d)
		date := day.Format(time.DateOnly)
		var roster []domain.Event
		for i, slot := range testSlots {
			for k := 0; k < 2; k++ {
				roster = append(roster, &domain.ShiftAssigned{Date: date, Slot: slot, Start: testHours[i][0], End: testHours[i][1], Lead: testPeople[(d+i+k)%len(testPeople)], Operators: []string{testPeople[(d+i+k+1)%len(testPeople)]}, At: day})
			}
		}
		roster = append(roster, &domain.ShiftUnassigned{Date: date, Slot: "pm", At: day})
		appendAll(domain.RosterStream(date), roster...)
		var log []domain.Event
		for e := 0; e < 30; e++ {
			log = append(log, &domain.LogEntryAdded{EntryID: fmt.Sprintf("%s-%d", date, e), Date: date, Category: domain.CategoryNovedad, Text: "Se recibe reporte de Carabineros por árbol caído en la vía; se coordina con la municipalidad.", Comunas: []string{"05101"}, By: "ana", At: day.Add(time.Duration(e) * time.Minute)})
			if e%6 == 5 {
				log = append(log, &domain.LogEntryCorrected{EntryID: fmt.Sprintf("%s-%d", date, e-1), Category: domain.CategoryIncidente, Text: "Corregido", Comunas: []string{"05101", "05109"}, By: "ana", At: day})
			}
		}
		appendAll(domain.LogStream(date), log...)
		appendAll(domain.InformeStream(date), &domain.InformeReceived{InformeHeader: domain.InformeHeader{Date: date, Number: fmt.Sprint(d), Title: "Informe", Source: "correo", IssuedAt: day}, At: day})
		id := fmt.Sprintf("alert-%03d", d)
		appendAll(domain.AlertStream(id),
			&domain.AlertDeclared{AlertID: id, Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Provincias: []string{"051"}, Comunas: []string{}, Title: "Marejadas", Description: "Aviso SHOA", At: day},
			&domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: day.Add(time.Hour)},
			&domain.AlertDetailsUpdated{Title: "Marejadas anormales", Description: "Aviso especial SHOA", At: day.Add(2 * time.Hour)})
		open = append(open, id)
		if len(open) > 5 {
			appendAll(domain.AlertStream(open[0]), &domain.AlertCancelled{Reason: "superado", At: day})
			open = open[1:]
		}
	}
	return n
}

// benchStore is years of history in an embedded store, made once per
// benchmark.
func benchStore(b *testing.B, years int) (eventstore.Store, int) {
	b.Helper()
	store := newStore(b)
	n := history(b, store, 365*years)
	return store, n
}

// BenchmarkRebuild replays one and five years of history (about 18,000
// and 90,000 events) into fresh Postgres tables and swaps them in: `hub
// projections rebuild`. A rebuild has a fixed part (creating, indexing
// and swapping seven tables), so the longer log shows the rate.
func BenchmarkRebuild(b *testing.B) {
	for _, years := range []int{1, 5} {
		b.Run(fmt.Sprintf("%dy", years), func(b *testing.B) {
			ctx := context.Background()
			store, n := benchStore(b, years)
			m := openModel(b, pgDSN(b))
			for b.Loop() {
				res, err := m.Rebuild(ctx, store, RebuildOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if res.Events != n {
					b.Fatalf("replayed %d events, want %d", res.Events, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkCatchUpPostgres projects the same history through the
// projector into empty Postgres tables, 512 events per Apply: a hub's
// first start on a new read model.
func BenchmarkCatchUpPostgres(b *testing.B) {
	ctx := context.Background()
	store, n := benchStore(b, 1)
	m := openModel(b, pgDSN(b))
	for b.Loop() {
		b.StopTimer()
		if _, err := m.pool.Exec(ctx, `TRUNCATE rm_streams, rm_alerts, rm_shifts, rm_log, rm_informes, rm_users, rm_audit;
			UPDATE rm_checkpoint SET commit_position = 0, prepare_position = 0, generation = generation + 1`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p := projections.NewProjector(store, m, nil, testLog(b))
		got, err := p.CatchUp(ctx)
		if err != nil || got != n {
			b.Fatalf("caught up %d events (%v), want %d", got, err, n)
		}
		_ = p.Close() // the lease it took
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCatchUpMemory rebuilds the in-memory read model from the same
// histories: what every start of the embedded hub does.
func BenchmarkCatchUpMemory(b *testing.B) {
	for _, years := range []int{1, 5} {
		b.Run(fmt.Sprintf("%dy", years), func(b *testing.B) {
			ctx := context.Background()
			store, n := benchStore(b, years)
			for b.Loop() {
				got, err := projections.NewProjector(store, memory.New(), nil, testLog(b)).CatchUp(ctx)
				if err != nil || got != n {
					b.Fatalf("caught up %d events (%v), want %d", got, err, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAuditQuery reads pages of a year's audit, newest first, from
// the Postgres read model: the records' summaries and diffs are worked
// out from their rows' histories as they are read (ns/op per page).
func BenchmarkAuditQuery(b *testing.B) {
	ctx := context.Background()
	store, n := benchStore(b, 1)
	m := openModel(b, pgDSN(b))
	p := projections.NewProjector(store, m, nil, testLog(b))
	if got, err := p.CatchUp(ctx); err != nil || got != n {
		b.Fatalf("caught up %d events (%v), want %d", got, err, n)
	}
	_ = p.Close()
	for _, q := range []struct {
		name string
		q    AuditQuery
	}{
		{"newest/records=100", AuditQuery{Newest: true, Limit: 100}},
		{"newest/records=1000", AuditQuery{Newest: true, Limit: 1000}},
		{"one day's log/records=100", AuditQuery{Stream: domain.LogStream("2025-06-01"), Newest: true, Limit: 100}},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recs, err := m.Audit(ctx, q.q)
				if err != nil || len(recs) == 0 || recs[0].Summary == "" {
					b.Fatalf("got %d records (%v)", len(recs), err)
				}
			}
		})
	}
}
