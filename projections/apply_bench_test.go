package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// The projector's hot path: every event the hub appends, and every event
// of the log at start (rebuild), is decoded and folded into the read
// model's State. ns/op is per log of benchLogSize events; events/s is the
// rate `hub bench` compares with the ≥100,000 events/s rebuild target
// (which also pays for reading the store). Run with `make bench` or
//
//	go test -run '^$' -bench . -benchmem ./projections

const benchLogSize = 10_000

// benchLog returns recorded events shaped like the operations log `hub
// bench` replays: of every 1,000, a day's 600 log entries, three alerts of
// 100 events (declared, level and detail changes, cancelled or widened) and
// 100 shift assignments. kind "alerts", "log" or "shifts" keeps only those.
func benchLog(tb testing.TB, n int, kind string) []eventstore.Event {
	tb.Helper()
	at := time.Date(2026, 1, 15, 11, 0, 0, 0, time.UTC)
	actor := eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}
	var out []eventstore.Event
	versions := map[string]uint64{}
	add := func(stream string, e domain.Event) {
		typ, schema, data, err := domain.Encode(e)
		if err != nil {
			tb.Fatal(err)
		}
		v := versions[stream]
		versions[stream] = v + 1
		pos := uint64(len(out) + 1)
		out = append(out, eventstore.Event{
			ID: uuid.New(), Stream: stream, Type: typ, Version: v, Position: eventstore.Seq(pos),
			RecordedAt: at, Actor: actor, Schema: schema, Data: data,
		})
	}
	for round := 0; len(out) < n; round++ {
		date := at.AddDate(0, 0, round%365).Format(time.DateOnly)
		if kind == "" || kind == "log" {
			for i := range 600 {
				add(domain.LogStream(date), &domain.LogEntryAdded{EntryID: fmt.Sprintf("e-%d-%d", round, i), Date: date, Category: domain.CategoryNovedad,
					Text: "Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.", Comunas: []string{"05101"}, By: "ana", At: at})
			}
		}
		if kind == "" || kind == "alerts" {
			for a := range 3 {
				stream := domain.AlertStream(uuid.NewString())
				add(stream, &domain.AlertDeclared{AlertID: stream[len(domain.AlertPrefix):], Hazard: domain.HazardSistemaFrontal, Level: domain.LevelAmarilla,
					Provincias: []string{"051"}, Comunas: []string{}, Title: "Alerta Amarilla por sistema frontal", Description: "Precipitaciones intensas.", At: at})
				level := domain.LevelAmarilla
				for i := 1; i < 99; i++ {
					if i%2 == 0 {
						next := domain.LevelRoja
						if level == next {
							next = domain.LevelAmarilla
						}
						add(stream, &domain.AlertLevelChanged{From: level, To: next, At: at})
						level = next
					} else {
						add(stream, &domain.AlertDetailsUpdated{Title: fmt.Sprintf("Sistema frontal (%d)", i), Description: "Precipitaciones intensas.", At: at})
					}
				}
				if a < 2 {
					add(stream, &domain.AlertCancelled{Reason: "condiciones normalizadas", At: at})
				} else {
					add(stream, &domain.AlertScopeChanged{Region: true, Provincias: []string{}, Comunas: []string{}, At: at})
				}
			}
		}
		if kind == "" || kind == "shifts" {
			for i := range 100 {
				slot, start, end := "dia", "08:00", "20:00"
				if i%2 == 1 {
					slot, start, end = "noche", "20:00", "08:00"
				}
				add(domain.RosterStream(date), &domain.ShiftAssigned{Date: date, Slot: slot, Start: start, End: end, Lead: "Ana Rojas", Operators: []string{"Pablo Soto"}, At: at})
			}
		}
	}
	return out[:n]
}

var benchKinds = []struct{ name, kind string }{{"mixed", ""}, {"alerts", "alerts"}, {"log", "log"}, {"shifts", "shifts"}}

// BenchmarkStateApply decodes and folds a log into a fresh State: the
// memory read model's work per event, without its lock.
func BenchmarkStateApply(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			evs := benchLog(b, benchLogSize, k.kind)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				s := projections.NewState()
				for _, ev := range evs {
					if _, _, err := s.Apply(ev); err != nil {
						b.Fatal(err)
					}
				}
				n += len(evs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkFoldOnly folds already decoded events, so that the difference
// from BenchmarkStateApply is the JSON decoding.
func BenchmarkFoldOnly(b *testing.B) {
	evs := benchLog(b, benchLogSize, "")
	decoded := make([]domain.Event, len(evs))
	for i, ev := range evs {
		e, err := projections.Decode(ev)
		if err != nil {
			b.Fatal(err)
		}
		decoded[i] = e
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		states := map[string]*projections.StreamState{}
		for i, ev := range evs {
			st := states[ev.Stream]
			if st == nil {
				st = &projections.StreamState{}
				states[ev.Stream] = st
			}
			st.Apply(ev, decoded[i])
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMemoryReadModelApply applies the log in the projector's batches
// (512 events per Apply) to the in-memory read model, lock included.
func BenchmarkMemoryReadModelApply(b *testing.B) {
	evs := benchLog(b, benchLogSize, "")
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m := memory.New()
		for i := 0; i < len(evs); i += 512 {
			if _, err := m.Apply(ctx, evs[i:min(i+512, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAuditPage reads pages of the audit of the mixed log from the
// in-memory read model, newest first: what GET /api/audit costs now that
// a record's summary and diff are worked out when it is read (ns/op per
// page).
func BenchmarkAuditPage(b *testing.B) {
	evs := benchLog(b, benchLogSize, "")
	ctx := context.Background()
	m := memory.New()
	if _, err := m.Apply(ctx, evs); err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("records=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recs, err := m.Audit(ctx, projections.AuditQuery{Newest: true, Limit: size})
				if err != nil || len(recs) != size || recs[0].Summary == "" {
					b.Fatalf("got %d records (%v)", len(recs), err)
				}
			}
		})
	}
}
