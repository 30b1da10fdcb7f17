package bench

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

// historyGenVersion names genHistoryYear's output in cache file names:
// bump it whenever the generator changes what it writes.
const historyGenVersion = 1

// historyCacheMin is the smallest generated year kept between runs (in
// the system's temporary directory): smaller ones are quick to write again.
const historyCacheMin = 100_000

// historyYearPath is where a generated year of n events is cached.
func historyYearPath(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("vigia-history-v%d-%d.db", historyGenVersion, n))
}

// ensureHistoryYear returns the path of an embedded event store holding
// genHistoryYear's n events: path itself when it exists already (a
// previous run made it), else written there first (into a temporary name,
// renamed when complete, so that an interrupted run never leaves half a
// year behind).
func ensureHistoryYear(ctx context.Context, path string, n int, written *atomic.Int64) (reused bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return true, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(tmp + suffix)
		}
	}()
	if err := genHistoryYear(ctx, tmp, n, written); err != nil {
		return false, err
	}
	// Closing the store checkpointed its WAL into the file; should one be
	// left, it goes along (SQLite replays it at the next open).
	if _, err := os.Stat(tmp + "-wal"); err == nil {
		if err := os.Rename(tmp+"-wal", path+"-wal"); err != nil {
			return false, err
		}
	}
	return false, os.Rename(tmp, path)
}

// historyAppend is one append of the generated year.
type historyAppend struct {
	at     time.Time
	stream string
	evs    []domain.Event
}

var historyTexts = []string{
	"Se informa lluvia intensa en el sector; Bomberos y municipio en terreno, sin lesionados.",
	"CONAF informa foco de incendio forestal controlado; se mantiene vigilancia.",
	"Corte de energía en sectores altos; la empresa eléctrica estima reposición en 4 horas.",
	"Oleaje anormal en el borde costero; Capitanía de Puerto cierra playas.",
	"Sin novedades en la red de comunicaciones; prueba de radio exitosa con las comunas.",
	"Municipio reporta anegamiento de calzada; se coordina apoyo de maquinaria.",
	"Coordinación con Carabineros por desvío de tránsito en ruta 68.",
	"Sistema de alerta de tsunami probado sin observaciones.",
}

// genHistoryYear writes a year of operations into a new embedded store at
// path, stamped day by day from 1 January 2025 in America/Santiago (so
// both DST changes are in it), until n events: each day's roster (three
// shifts assigned the evening before, one reassigned during the day), the
// day's informe at 09:00, alerts declared at random times (one per ~300
// events of the day, at least one) that change level, details or scope a
// few times over their life and are cancelled after one to seven days (one
// in ten lasts 20 to 60), and the rest novedades, written in half-hour
// batches, one in a hundred corrected half an hour later. It is
// deterministic.
func genHistoryYear(ctx context.Context, path string, n int, written *atomic.Int64) error {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return err
	}
	var clock time.Time
	st, err := sqlite.Open(path, sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		return err
	}
	defer st.Close()
	rng := mrand.New(mrand.NewPCG(2025, historyGenVersion))
	actors := []eventstore.Actor{{ID: "u-ana", Username: "ana", Role: "operator"}, {ID: "u-beto", Username: "beto", Role: "operator"},
		{ID: "u-sofia", Username: "sofia", Role: "supervisor"}, {ID: "ingest:imap", Username: "ingest:imap", Role: "system"}}
	provs := domain.Provincias()
	comuna := func() string {
		p := provs[rng.IntN(len(provs))]
		return p.Comunas[rng.IntN(len(p.Comunas))].Code
	}
	scope := func() (bool, []string, []string) {
		switch rng.IntN(4) {
		case 0:
			return true, []string{}, []string{}
		case 1:
			return false, []string{provs[rng.IntN(len(provs))].Code}, []string{}
		}
		return false, []string{}, []string{comuna(), comuna()}
	}
	newID := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return uuid.Must(uuid.FromBytes(b[:])).String()
	}
	perDay := max(n/365, 1)
	alertsPerDay := max(perDay/300, 1)
	var pending []historyAppend // alert events of later days
	entry := 0
	for day := 0; int(written.Load()) < n; day++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		start, end := projections.Midnight(2025, 1, 1+day, loc), projections.Midnight(2025, 1, 2+day, loc)
		length := end.Sub(start)
		at := func(from, to time.Duration) time.Time {
			return start.Add(from + time.Duration(rng.Int64N(int64(to-from))))
		}
		date, tomorrow := start.Format(time.DateOnly), end.Format(time.DateOnly)
		var today []historyAppend

		// Tomorrow's roster, this evening; one of today's shifts changes.
		slots := [][3]string{{"am", "08:00", "16:00"}, {"pm", "16:00", "00:00"}, {"noche", "00:00", "08:00"}}
		shift := func(date string, s [3]string, t time.Time) *domain.ShiftAssigned {
			return &domain.ShiftAssigned{Date: date, Slot: s[0], Start: s[1], End: s[2], Lead: fmt.Sprintf("Jefa de turno %d", rng.IntN(7)),
				Operators: []string{fmt.Sprintf("Operador %d", rng.IntN(12)), fmt.Sprintf("Operadora %d", rng.IntN(12))}, At: t.UTC()}
		}
		t18 := start.Add(length - 6*time.Hour)
		var roster []domain.Event
		for _, s := range slots {
			roster = append(roster, shift(tomorrow, s, t18))
		}
		today = append(today, historyAppend{at: t18, stream: domain.RosterStream(tomorrow), evs: roster})
		tr := at(time.Hour, length-time.Hour)
		today = append(today, historyAppend{at: tr, stream: domain.RosterStream(date), evs: []domain.Event{shift(date, slots[rng.IntN(3)], tr)}})
		t9 := start.Add(9 * time.Hour)
		today = append(today, historyAppend{at: t9, stream: domain.InformeStream(date), evs: []domain.Event{&domain.InformeReceived{
			InformeHeader: domain.InformeHeader{Date: date, Number: fmt.Sprintf("%d/%d", day+1, 2025), Title: "Informe diario de situación regional",
				Source: "correo", IssuedAt: t9.Add(-30 * time.Minute).UTC(), Summary: "Situación regional sin eventos mayores."}, At: t9.UTC()}}})

		// Alerts, each with its future.
		events := 4 + 1
		for range alertsPerDay {
			id, t0 := newID(), at(0, length)
			hz := domain.Hazards()[rng.IntN(len(domain.Hazards()))]
			level := domain.Levels[rng.IntN(2)]
			region, ps, cs := scope()
			today = append(today, historyAppend{at: t0, stream: domain.AlertStream(id), evs: []domain.Event{&domain.AlertDeclared{AlertID: id, Hazard: hz,
				Level: level, Region: region, Provincias: ps, Comunas: cs, Title: "Alerta por " + strings.ToLower(hz.Label()),
				Description: "Declarada por el director regional según el informe técnico.", At: t0.UTC()}}})
			life := time.Duration(24+rng.IntN(6*24)) * time.Hour
			if rng.IntN(10) == 0 {
				life = time.Duration(20+rng.IntN(41)) * 24 * time.Hour
			}
			follow := rng.IntN(7)
			times := make([]time.Time, follow)
			for i := range times {
				times[i] = t0.Add(time.Duration(1 + rng.Int64N(int64(life))))
			}
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			for i, t := range times {
				var e domain.Event
				switch rng.IntN(3) {
				case 0:
					next := domain.Levels[(level.Rank()+rng.IntN(2))%3]
					e = &domain.AlertLevelChanged{From: level, To: next, Reason: "evolución del evento", At: t.UTC()}
					level = next
				case 1:
					e = &domain.AlertDetailsUpdated{Title: fmt.Sprintf("Alerta por %s (actualización %d)", strings.ToLower(hz.Label()), i+1),
						Description: "Actualizada según el último reporte de terreno.", At: t.UTC()}
				default:
					region, ps, cs := scope()
					e = &domain.AlertScopeChanged{Region: region, Provincias: ps, Comunas: cs, Reason: "cambio de cobertura", At: t.UTC()}
				}
				pending = append(pending, historyAppend{at: t, stream: domain.AlertStream(id), evs: []domain.Event{e}})
			}
			tc := t0.Add(life + time.Minute)
			pending = append(pending, historyAppend{at: tc, stream: domain.AlertStream(id), evs: []domain.Event{&domain.AlertCancelled{Reason: "condiciones normalizadas", At: tc.UTC()}}})
			events += 2 + follow
		}

		// The alert events that fall today, of alerts declared earlier or
		// just now.
		kept := pending[:0]
		for _, a := range pending {
			if a.at.Before(end) {
				today = append(today, a)
			} else {
				kept = append(kept, a)
			}
		}
		pending = kept

		// Novedades, in half-hour batches; a few corrected later.
		logs := max(perDay-events, 1)
		var corrections []*domain.LogEntryCorrected
		for b := range 48 {
			tb := start.Add(length * time.Duration(b+1) / 49)
			var evs []domain.Event
			for _, c := range corrections {
				c.At = tb.UTC()
				evs = append(evs, c)
			}
			corrections = corrections[:0]
			for i := logs * b / 48; i < logs*(b+1)/48; i++ {
				entry++
				by := actors[rng.IntN(len(actors))].Username
				id := fmt.Sprintf("h%07d", entry)
				evs = append(evs, &domain.LogEntryAdded{EntryID: id, Date: date, Category: domain.Categories[rng.IntN(len(domain.Categories))],
					Text: historyTexts[rng.IntN(len(historyTexts))], Comunas: []string{comuna()}, By: by, At: tb.UTC()})
				if rng.IntN(100) == 0 {
					corrections = append(corrections, &domain.LogEntryCorrected{EntryID: id, Category: domain.CategoryIncidente,
						Text: historyTexts[rng.IntN(len(historyTexts))] + " (corregido)", Comunas: []string{comuna()}, Reason: "dato erróneo", By: by})
				}
			}
			if len(evs) > 0 {
				today = append(today, historyAppend{at: tb, stream: domain.LogStream(date), evs: evs})
			}
		}

		slices.SortStableFunc(today, func(a, b historyAppend) int { return a.at.Compare(b.at) })
		for _, a := range today {
			if left := n - int(written.Load()); left <= 0 {
				break
			} else if len(a.evs) > left {
				a.evs = a.evs[:left]
			}
			data := make([]eventstore.EventData, len(a.evs))
			for i, e := range a.evs {
				typ, schema, raw, err := domain.Encode(e)
				if err != nil {
					return err
				}
				data[i] = eventstore.EventData{ID: eventstore.NewEventID(), Type: typ, Schema: schema, Data: raw,
					Actor: actors[rng.IntN(len(actors))], CorrelationID: "bench-history"}
			}
			clock = a.at
			if _, err := st.Append(ctx, a.stream, eventstore.Any, data...); err != nil {
				return err
			}
			written.Add(int64(len(a.evs)))
		}
	}
	return nil
}

// history times the informe of random days over a generated year of
// --rebuild-events events (cached when large): first the snapshotter's
// pass over the whole log, then informes with its snapshots and without.
func (b *bench) history(ctx context.Context) error {
	path, err := b.historyYear(ctx)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return err
	}
	snaps := memory.NewSnapshots()
	h := projections.NewHistory(st, snaps, loc, zerolog.Nop())
	b.progress.start("history: writing day snapshots", nil)
	stop := b.profile("history-snapshots")
	t0 := time.Now()
	events, made, err := h.CatchUp(ctx)
	took := time.Since(t0)
	stop()
	b.progress.finish()
	if err != nil {
		return err
	}
	b.rows = append(b.rows, tableRow{scenario: "history", name: fmt.Sprintf("day snapshots of %s events", fmtInt(int64(events))),
		result: fmt.Sprintf("%d snapshots", made), max: fmtDur(took)})

	all, err := st.ReadAll(ctx, eventstore.Position{}, eventstore.Filter{}, 1)
	if err != nil || len(all) == 0 {
		return fmt.Errorf("read the first event: %v", err)
	}
	first := all[0].RecordedAt.In(loc)
	days := made + 1 // a snapshot at the end of every day but the last
	rng := mrand.New(mrand.NewPCG(7, 7))
	randomDay := func() (string, time.Time, time.Time) {
		d := projections.Midnight(first.Year(), first.Month(), first.Day()+rng.IntN(days), loc)
		s, e, _ := projections.DayBounds(d.Format(time.DateOnly), loc)
		return d.Format(time.DateOnly), s, e
	}
	cases := []historyCase{
		{"informe of a random day, at its end, with snapshots", h, func(h *projections.History) error {
			date, _, end := randomDay()
			_, err := h.Informe(ctx, date, end, eventstore.Position{})
			return err
		}, 0},
		{"informe of a random day, at a random moment of it, with snapshots", h, func(h *projections.History) error {
			date, s, e := randomDay()
			_, err := h.Informe(ctx, date, s.Add(time.Duration(rng.Int64N(int64(e.Sub(s))))), eventstore.Position{})
			return err
		}, 0},
		{"changes of a random day, with snapshots", h, func(h *projections.History) error {
			date, _, _ := randomDay()
			_, err := h.Changes(ctx, date)
			return err
		}, 0},
		{"informe of a random day, at its end, without snapshots", projections.NewHistory(st, nil, loc, zerolog.Nop()), func(h *projections.History) error {
			date, _, end := randomDay()
			_, err := h.Informe(ctx, date, end, eventstore.Position{})
			return err
		}, 5},
	}
	stop = b.profile("history")
	defer stop()
	for _, c := range cases {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := b.timeHistory(c, events); err != nil {
			return err
		}
	}
	return nil
}

// historyYear returns the path of the generated year of --rebuild-events
// events, generating it first unless a previous run left it (large years
// only, in the system's temporary directory).
func (b *bench) historyYear(ctx context.Context) (string, error) {
	n := b.o.rebuildEvents
	path := historyYearPath(n)
	if n < historyCacheMin {
		if b.tmp == "" {
			dir, err := os.MkdirTemp("", "hub-bench-")
			if err != nil {
				return "", err
			}
			b.tmp = dir
		}
		path = filepath.Join(b.tmp, "history.db")
	}
	var written atomic.Int64
	b.progress.start("history: generating a year of operations", func() string { return fmtInt(written.Load()) + " of " + fmtInt(int64(n)) })
	t0 := time.Now()
	reused, err := ensureHistoryYear(ctx, path, n, &written)
	b.progress.finish()
	if err != nil {
		return "", fmt.Errorf("generate: %w", err)
	}
	if reused {
		b.note("history: reused the generated year in %s (delete it to generate it again)", path)
	} else {
		b.note("history: generated %s events in %s into %s", fmtInt(written.Load()), time.Since(t0).Round(time.Second), path)
	}
	return path, nil
}

// historyCase is one timed case of the history scenario.
type historyCase struct {
	name string
	h    *projections.History
	do   func(h *projections.History) error
	// most bounds the cases without snapshots, each of which replays
	// the log from its start.
	most int
}

// timeHistory runs c at least three times, then until --duration (or
// c.most runs), and adds its row; events is the size of the year.
func (b *bench) timeHistory(c historyCase, events int) error {
	b.progress.start("history: "+c.name, nil)
	var lats []time.Duration
	deadline := time.Now().Add(b.o.duration)
	for len(lats) < 3 || (time.Now().Before(deadline) && (c.most == 0 || len(lats) < c.most)) {
		t := time.Now()
		if err := c.do(c.h); err != nil {
			b.progress.finish()
			return err
		}
		lats = append(lats, time.Since(t))
	}
	b.progress.finish()
	s := summarize(lats)
	row := tableRow{scenario: "history", name: c.name, result: fmt.Sprintf("%s requests", fmtInt(int64(len(lats)))),
		p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)}
	if strings.HasPrefix(c.name, "informe") && strings.HasSuffix(c.name, "with snapshots") {
		row.target = "<200 ms on a year of ≥1,000,000 events"
		if events >= 1_000_000 {
			row.verdict = verdict(s.max < 200*time.Millisecond)
		}
	}
	b.rows = append(b.rows, row)
	return nil
}
