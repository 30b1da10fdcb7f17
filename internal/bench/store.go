package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

// storeScenarios opens the store (the bench hub's, now stopped; or with
// --target the configured one or a temporary file) and runs appends and
// rebuild on it.
func (b *bench) storeScenarios(ctx context.Context) error {
	if b.tmp == "" {
		dir, err := os.MkdirTemp("", "hub-bench-")
		if err != nil {
			return err
		}
		b.tmp = dir
	}
	st, err := openStore(ctx, b.o.eventStore, b.tmp)
	if err != nil {
		return err
	}
	defer st.Close()
	kind := storeurl.Kind(b.o.eventStore)
	if b.o.scenarios["appends"] {
		stop := b.profile("appends")
		b.appends(ctx, st, kind)
		stop()
	}
	if b.o.scenarios["rebuild"] && ctx.Err() == nil {
		if err := b.rebuild(ctx, st); err != nil {
			b.fail("rebuild", "memory", err)
		}
		if !b.pgReadModel() {
			b.rows = append(b.rows, tableRow{scenario: "rebuild", name: "postgres read model", result: "n/a",
				target: "≥30,000 events/s replaying 1,000,000"})
			b.note("rebuild into Postgres: n/a, no Postgres read model configured (--readmodel postgres://…, a scratch schema)")
		} else if ctx.Err() == nil {
			if err := b.rebuildPostgres(ctx, st); err != nil {
				b.fail("rebuild", "postgres read model", err)
			}
		}
	}
	return nil
}

// declaredPayload is an alert declaration as the domain encodes it.
func declaredPayload() (string, int, json.RawMessage) {
	typ, schema, data, err := domain.Encode(&domain.AlertDeclared{
		AlertID: uuid.NewString(), Hazard: domain.HazardIncendioForestal, Level: domain.LevelRoja,
		Provincias: []string{"058"}, Comunas: []string{"05801", "05804"}, Title: "Incendio forestal en Quilpué",
		Description: "Alerta Roja por incendio forestal que amenaza zonas habitadas.", At: time.Now().UTC(),
	})
	if err != nil {
		panic(err) // a fixed, valid event
	}
	return typ, schema, data
}

func (b *bench) appends(ctx context.Context, st eventstore.Store, kind string) {
	typ, schema, data := declaredPayload()
	actor := eventstore.Actor{ID: "system:bench", Username: "bench", Role: "system"}
	batchOf := func(n int) []eventstore.EventData {
		evs := make([]eventstore.EventData, n)
		for i := range evs {
			evs[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: data, Actor: actor, CorrelationID: "bench"}
		}
		return evs
	}
	cases := []struct {
		name           string
		batch, writers int
	}{
		{kind + ", batch 1, 1 writer", 1, 1},
		{kind + ", batch 100, 1 writer", 100, 1},
		{fmt.Sprintf("%s, batch 1, %d writers", kind, b.o.operators), 1, b.o.operators},
	}
	for ci, c := range cases {
		if ctx.Err() != nil {
			return
		}
		var events atomic.Int64
		lats := make([][]time.Duration, c.writers)
		var wg sync.WaitGroup
		var firstErr firstError
		b.progress.start("appends: "+c.name, func() string { return fmtInt(events.Load()) + " events" })
		start := time.Now()
		deadline := start.Add(b.o.duration)
		for wi := range c.writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Streams outside the domain's prefixes: the hub's
				// projections never read them.
				stream := fmt.Sprintf("benchraw-%d-%d", ci, wi)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					evs := batchOf(c.batch)
					t0 := time.Now()
					if _, err := st.Append(ctx, stream, eventstore.Any, evs...); err != nil {
						firstErr.set(err)
						return
					}
					lats[wi] = append(lats[wi], time.Since(t0))
					events.Add(int64(c.batch))
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.progress.finish()
		if err := firstErr.get(); err != nil {
			b.fail("appends", c.name, err)
			continue
		}
		s := summarize(slices.Concat(lats...))
		b.rows = append(b.rows, tableRow{scenario: "appends", name: c.name,
			result: fmtRate(float64(events.Load())/elapsed.Seconds()) + " events/s",
			p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)})
	}
}

// rebuild fills the store with --rebuild-events events, then times a fresh
// memory read model catching up with the whole log, as the hub does at start.
func (b *bench) rebuild(ctx context.Context, st eventstore.Store) error {
	var written atomic.Int64
	b.progress.start("rebuild: appending events", func() string {
		return fmtInt(written.Load()) + " of " + fmtInt(int64(b.o.rebuildEvents))
	})
	t0 := time.Now()
	err := fillLog(ctx, st, b.o.rebuildEvents, &written)
	fill := time.Since(t0)
	b.progress.finish()
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	model := memory.New()
	p := projections.NewProjector(st, model, nil, zerolog.Nop())
	b.progress.start("rebuild: replaying into a memory read model", nil)
	stop := b.profile("rebuild") // the replay only, not the fill
	start := time.Now()
	n, err := p.CatchUp(ctx)
	elapsed := time.Since(start)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	rate := float64(n) / elapsed.Seconds()
	b.rows = append(b.rows, tableRow{scenario: "rebuild", name: fmt.Sprintf("memory read model, %s events", fmtInt(int64(n))),
		result: fmtRate(rate) + " events/s", max: fmtDur(elapsed), target: "≥100,000 events/s replaying 1,000,000"})
	if n >= 1_000_000 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 100_000)
	}
	b.note("rebuild: the %s events were appended at %s events/s (batches of up to 600) before the replay; max is the replay's whole time",
		fmtInt(written.Load()), fmtRate(float64(written.Load())/fill.Seconds()))
	return nil
}

// rebuildPostgres times the Postgres read model's own rebuild (replay into
// fresh tables, then swap) over the whole log the memory rebuild replayed.
func (b *bench) rebuildPostgres(ctx context.Context, st eventstore.Store) error {
	m, err := rmpostgres.Open(ctx, b.o.readModel)
	if err != nil {
		return err
	}
	defer m.Close()
	var done atomic.Int64
	b.progress.start("rebuild: replaying into the Postgres read model", func() string { return fmtInt(done.Load()) + " events" })
	stop := b.profile("rebuild-postgres")
	start := time.Now()
	res, err := m.Rebuild(ctx, st, rmpostgres.RebuildOptions{Progress: func(p rmpostgres.RebuildProgress) { done.Store(int64(p.Events)) }})
	elapsed := time.Since(start)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	rate := float64(res.Events) / elapsed.Seconds()
	b.rows = append(b.rows, tableRow{scenario: "rebuild", name: fmt.Sprintf("postgres read model, %s events", fmtInt(int64(res.Events))),
		result: fmtRate(rate) + " events/s", max: fmtDur(elapsed), target: "≥30,000 events/s replaying 1,000,000"})
	if res.Events >= 1_000_000 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 30_000)
	}
	return nil
}

// fillLog appends n events shaped like a year of operations: per round, a
// day's log gets 600 entries, three alerts 100 events each (declared, level
// and detail changes, two of three cancelled) and the day's roster 100 shift
// changes. Later rounds revisit the same 365 days.
func fillLog(ctx context.Context, st eventstore.Store, n int, written *atomic.Int64) error {
	actor := eventstore.Actor{ID: "system:bench", Username: "bench", Role: "operator"}
	provs := domain.Provincias()
	day0 := time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)
	entry := 0
	appendBatch := func(stream string, evs []domain.Event) error {
		if left := n - int(written.Load()); len(evs) > left {
			evs = evs[:left]
		}
		if len(evs) == 0 {
			return nil
		}
		data := make([]eventstore.EventData, len(evs))
		for i, e := range evs {
			typ, schema, raw, err := domain.Encode(e)
			if err != nil {
				return err
			}
			data[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw, Actor: actor, CorrelationID: "bench-fill"}
		}
		if _, err := st.Append(ctx, stream, eventstore.Any, data...); err != nil {
			return err
		}
		written.Add(int64(len(evs)))
		return nil
	}
	for round := 0; int(written.Load()) < n; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := day0.AddDate(0, 0, round%365)
		date := at.Format(time.DateOnly)
		prov := provs[round%len(provs)]
		comuna := prov.Comunas[round%len(prov.Comunas)].Code

		logEvs := make([]domain.Event, 600)
		for i := range logEvs {
			entry++
			logEvs[i] = &domain.LogEntryAdded{EntryID: fmt.Sprintf("bench-%d", entry), Date: date, Category: domain.Categories[i%len(domain.Categories)],
				Text: "Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.", Comunas: []string{comuna}, By: "bench", At: at.Add(time.Duration(i) * time.Minute)}
		}
		if err := appendBatch(domain.LogStream(date), logEvs); err != nil {
			return err
		}
		for a := range 3 {
			id := uuid.NewString()
			evs := make([]domain.Event, 0, 100)
			evs = append(evs, &domain.AlertDeclared{AlertID: id, Hazard: domain.Hazards()[(round+a)%len(domain.Hazards())], Level: domain.LevelAmarilla,
				Provincias: []string{prov.Code}, Comunas: []string{}, Title: "Alerta Amarilla por sistema frontal",
				Description: "Precipitaciones intensas y viento en altura.", At: at})
			level := domain.LevelAmarilla
			for i := 1; len(evs) < 99; i++ {
				t := at.Add(time.Duration(i) * time.Minute)
				if i%2 == 0 {
					next := domain.LevelRoja
					if level == domain.LevelRoja {
						next = domain.LevelAmarilla
					}
					evs = append(evs, &domain.AlertLevelChanged{From: level, To: next, Reason: "actualización", At: t})
					level = next
				} else {
					evs = append(evs, &domain.AlertDetailsUpdated{Title: fmt.Sprintf("Alerta por sistema frontal (%d)", i), Description: "Precipitaciones intensas y viento en altura.", At: t})
				}
			}
			if a < 2 {
				evs = append(evs, &domain.AlertCancelled{Reason: "condiciones normalizadas", At: at.Add(3 * time.Hour)})
			} else {
				evs = append(evs, &domain.AlertScopeChanged{Region: true, Provincias: []string{}, Comunas: []string{}, At: at.Add(3 * time.Hour)})
			}
			if err := appendBatch(domain.AlertStream(id), evs); err != nil {
				return err
			}
		}
		shifts := make([]domain.Event, 100)
		for i := range shifts {
			slot, start, end := "dia", "08:00", "20:00"
			if i%2 == 1 {
				slot, start, end = "noche", "20:00", "08:00"
			}
			shifts[i] = &domain.ShiftAssigned{Date: date, Slot: slot, Start: start, End: end, Lead: fmt.Sprintf("Jefa de turno %d", i%7),
				Operators: []string{"Operador A", "Operador B"}, At: at.Add(time.Duration(i) * time.Minute)}
		}
		if err := appendBatch(domain.RosterStream(date), shifts); err != nil {
			return err
		}
	}
	return nil
}

// openStore opens the event store u names, as the hub would: an empty u
// is the embedded store in dataDir (the bench's hub's, once it stopped).
func openStore(ctx context.Context, u, dataDir string) (eventstore.Store, error) {
	return storeurl.Open(ctx, u, dataDir, time.Now)
}
