package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	pgstore "github.com/senapred-valparaiso/vigia/eventstore/postgres"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testgen"
	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

// histClock is the injected clock of the store and the commands: it stays
// where the test puts it.
type histClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *histClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *histClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// histModel is what the property test asks of a live read model.
type histModel interface {
	projections.ReadModel
	Alerts(ctx context.Context, status string) ([]projections.AlertView, error)
	Shifts(ctx context.Context, date string) ([]projections.ShiftView, error)
	Log(ctx context.Context, date string) ([]projections.LogEntryView, error)
	Informe(ctx context.Context, date string) (domain.InformeHeader, bool, error)
}

// histRig is one configuration of the property test.
type histRig struct {
	store eventstore.Store
	snaps projections.SnapshotStore
	model histModel
}

// histSeed is the seed of a property test: HUB_HISTORY_SEED, or the clock.
func histSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("HUB_HISTORY_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("HUB_HISTORY_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("seed %d (rerun with HUB_HISTORY_SEED=%d)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with seed %d: rerun with HUB_HISTORY_SEED=%d", seed, seed)
		}
	})
	return seed
}

// TestHistoryInformeEqualsTheFold is the time-travel property: for random
// command sequences over days that cross both of Chile's DST changes, the
// informe History rebuilds for every day (at its end, at random moments,
// and at random positions of the day's changes) is the fold of exactly the
// events recorded by then, with snapshots and without; the day's changes
// are exactly its events, with the audit's summaries; and today's informe
// is what the live read model holds.
func TestHistoryInformeEqualsTheFold(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		clock := &histClock{}
		store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(clock.now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		histProperty(t, clock, histRig{store: store, snaps: memory.NewSnapshots(), model: memory.New()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := testsvc.Postgres(t)
		clock := &histClock{}
		ctx := context.Background()
		store, err := pgstore.Open(ctx, dsn, pgstore.WithClock(clock.now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		model, err := rmpostgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = model.Close() })
		histProperty(t, clock, histRig{store: store, snaps: model.Snapshots(), model: model})
	})
}

func histProperty(t *testing.T, clock *histClock, rig histRig) {
	ctx := context.Background()
	seed := histSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	loc := mustSantiago(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	w := newHistWorkload(rig.store, clock, rng, loc)

	// Autumn: DST ends at 24:00 on Saturday 4 April 2026 (the hour before
	// midnight happens twice). Snapshots catch up halfway, then resume.
	w.run(t, ctx, time.Date(2026, 4, 2, 12, 0, 0, 0, loc), time.Date(2026, 4, 7, 0, 0, 0, 0, loc))
	if _, _, err := projections.NewHistory(rig.store, rig.snaps, loc, log).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	// Spring: DST starts at 24:00 on Saturday 5 September 2026 (the clock
	// jumps to 01:00: Sunday has no midnight).
	w.run(t, ctx, time.Date(2026, 9, 3, 20, 0, 0, 0, loc), time.Date(2026, 9, 8, 12, 0, 0, 0, loc))
	for i := range 3 { // today has novedades, whenever the run ended
		w.clock.set(w.clock.now().Add(time.Minute))
		today := w.clock.now().In(loc).Format(time.DateOnly)
		if _, err := w.cmds.Execute(ctx, domain.LogStream(today), command.Meta{Actor: histActors[0]}, nil, command.Command(domain.AddLogEntry{
			EntryID: fmt.Sprintf("last%d", i), Date: today, Text: "Sin novedad", By: "ana", At: w.clock.now()})); err != nil {
			t.Fatal(err)
		}
	}
	hist := projections.NewHistory(rig.store, rig.snaps, loc, log)
	if _, n, err := hist.CatchUp(ctx); err != nil {
		t.Fatal(err)
	} else if n == 0 {
		t.Fatal("the snapshotter wrote no snapshot after the second period")
	}
	bare := projections.NewHistory(rig.store, nil, loc, log)
	t.Logf("%d commands, %d refused by the domain", w.n, w.refused)

	all, err := rig.store.ReadAll(ctx, eventstore.Position{}, projections.EventFilter(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Every accepted command appends at least one event; about one in six
	// is refused by the domain (a cancelled alert, an empty slot).
	if len(all) < w.n-w.refused || len(all) < w.n/2 {
		t.Fatalf("only %d events from %d commands (%d refused): the workload did too little", len(all), w.n, w.refused)
	}
	first, last := all[0].RecordedAt.In(loc), all[len(all)-1].RecordedAt.In(loc)
	var days []string
	for d := projections.Midnight(first.Year(), first.Month(), first.Day(), loc); !d.After(last); {
		days = append(days, d.Format(time.DateOnly))
		d = projections.Midnight(d.Year(), d.Month(), d.Day()+1, loc)
	}
	for _, want := range []string{"2026-04-04", "2026-04-05", "2026-09-05", "2026-09-06"} {
		if !containsName(days, want) {
			t.Fatalf("the events do not cover %s (DST change)", want)
		}
	}

	check := func(what, date string, at time.Time, upto eventstore.Position, h *projections.History) {
		t.Helper()
		got, err := h.Informe(ctx, date, at, upto)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := histFold(t, all, date, at, upto)
		if g, w := histJSON(t, got), histJSON(t, want); g != w {
			t.Fatalf("%s: informe %s as of %s upto %s differs from the fold\n got: %s\nwant: %s", what, date, at.Format(time.RFC3339Nano), upto, g, w)
		}
	}

	// Every day, at its end; without snapshots too, every third day.
	for i, date := range days {
		_, end, err := projections.DayBounds(date, loc)
		if err != nil {
			t.Fatal(err)
		}
		check("end of day", date, end, eventstore.Position{}, hist)
		if i%3 == 0 {
			check("end of day, no snapshots", date, end, eventstore.Position{}, bare)
		}
	}

	// Random moments: an event's own time (inclusive), a nanosecond before
	// it, and anywhere in a day; the informe of that day, or of the day
	// before (a moment after a day's end shows that day as known then).
	for range 24 {
		ev := all[rng.IntN(len(all))]
		at := ev.RecordedAt
		switch rng.IntN(3) {
		case 0:
			at = at.Add(-time.Nanosecond)
		case 1:
			y, m, d := at.In(loc).Date()
			s, e := projections.Midnight(y, m, d, loc), projections.Midnight(y, m, d+1, loc)
			at = s.Add(time.Duration(rng.Int64N(int64(e.Sub(s)))))
		}
		date := at.In(loc).Format(time.DateOnly)
		if rng.IntN(4) == 0 {
			y, m, d := at.In(loc).Date()
			date = time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Format(time.DateOnly)
		}
		check("random moment", date, at.In(loc), eventstore.Position{}, hist)
	}

	// Each day's changes are its events, with the audit's summaries; the
	// informe at random steps through them is the fold up to that step.
	summaries := histSummaries(t, all)
	for _, date := range days {
		start, end, _ := projections.DayBounds(date, loc)
		got, err := hist.Changes(ctx, date)
		if err != nil {
			t.Fatal(err)
		}
		var want []projections.InformeChange
		for _, ev := range all {
			if !ev.RecordedAt.After(start) || ev.RecordedAt.After(end) || !histRelevant(ev.Stream, date) {
				continue
			}
			want = append(want, projections.InformeChange{Position: ev.Position, RecordedAt: ev.RecordedAt.UTC(), Stream: ev.Stream,
				Version: ev.Version, Type: ev.Type, Actor: ev.Actor.Username, Summary: summaries[ev.Position]})
		}
		if g, w := histJSON(t, got.Changes), histJSON(t, want); g != w && !(len(want) == 0 && len(got.Changes) == 0) {
			t.Fatalf("changes of %s differ\n got: %s\nwant: %s", date, g, w)
		}
		for range min(2, len(want)) {
			c := want[rng.IntN(len(want))]
			check("step", date, end, c.Position, hist)
		}
	}
	// upto outside the day is only a cut: earlier positions, with an
	// earlier snapshot.
	check("early upto", days[len(days)-1], clock.now(), all[len(all)/3].Position, hist)

	// Today, as of now, is what the live read model shows.
	if _, err := projections.NewProjector(rig.store, rig.model, nil, log).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	today := clock.now().In(loc).Format(time.DateOnly)
	now, err := hist.Informe(ctx, today, clock.now(), eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := rig.model.Alerts(ctx, "vigente")
	if err != nil {
		t.Fatal(err)
	}
	shifts, err := rig.model.Shifts(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := rig.model.Log(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	var header *domain.InformeHeader
	if h, ok, err := rig.model.Informe(ctx, today); err != nil {
		t.Fatal(err)
	} else if ok {
		header = &h
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{{"alerts", now.Alerts, alerts}, {"shifts", now.Shifts, shifts}, {"log", now.Log, entries}, {"header", now.Header, header}} {
		if g, w := histJSON(t, c.got), histJSON(t, c.want); g != w {
			t.Fatalf("today's %s differ from the live read model\n got: %s\nwant: %s", c.what, g, w)
		}
	}
	if len(now.Alerts) == 0 || len(now.Log) == 0 {
		t.Fatalf("today's informe is too empty to prove anything: %d alerts, %d entries", len(now.Alerts), len(now.Log))
	}
}

// histFold is the definition: a fresh State folding every event recorded
// at or before at (and at or before upto), rendered as the informe.
func histFold(t *testing.T, all []eventstore.Event, date string, at time.Time, upto eventstore.Position) projections.InformeView {
	t.Helper()
	s := projections.NewState()
	for _, ev := range all {
		if ev.RecordedAt.After(at) || (!upto.IsZero() && ev.Position.Compare(upto) > 0) {
			continue
		}
		if _, _, err := s.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	v := s.InformeView(date, at)
	if !upto.IsZero() {
		v.UpTo = &upto
	}
	return v
}

// histSummaries folds the whole log with the audit and returns each
// event's summary.
func histSummaries(t *testing.T, all []eventstore.Event) map[eventstore.Position]string {
	t.Helper()
	s := projections.NewState()
	out := map[eventstore.Position]string{}
	for _, ev := range all {
		_, _, rec, err := s.ApplyAudited(ev)
		if err != nil {
			t.Fatal(err)
		}
		out[ev.Position] = rec.Summary
	}
	return out
}

func histRelevant(stream, date string) bool {
	return len(stream) > len(domain.AlertPrefix) && stream[:len(domain.AlertPrefix)] == domain.AlertPrefix ||
		stream == domain.RosterStream(date) || stream == domain.LogStream(date) || stream == domain.InformeStream(date)
}

func histJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// histWorkload issues random commands through the command path while
// moving the clock forward: mostly by minutes to hours, sometimes onto a
// midnight exactly, a nanosecond before one, or into the hour before
// midnight (the one a DST change repeats or leaves out).
type histWorkload struct {
	cmds    *command.Handler
	clock   *histClock
	rng     *rand.Rand
	loc     *time.Location
	n       int
	refused int
	alerts  []string            // declared, possibly cancelled since
	entries map[string][]string // date → entry IDs
}

func newHistWorkload(store eventstore.Store, clock *histClock, rng *rand.Rand, loc *time.Location) *histWorkload {
	return &histWorkload{cmds: command.New(store, command.WithClock(clock.now)), clock: clock, rng: rng, loc: loc, entries: map[string][]string{}}
}

var histActors = []eventstore.Actor{{ID: "u1", Username: "ana", Role: "operator"}, {ID: "u2", Username: "beto", Role: "supervisor"}, {ID: "ingest:imap", Username: "ingest:imap", Role: "system"}}

// run issues commands from the clock at from until it passes to.
func (w *histWorkload) run(t *testing.T, ctx context.Context, from, to time.Time) {
	t.Helper()
	w.clock.set(from)
	if w.n == 0 {
		// A user's events are in the log too, and change no informe.
		if _, err := w.cmds.CreateUser(ctx, command.Meta{Actor: histActors[1]}, "carla", "Carla", "operator", "hash"); err != nil {
			t.Fatal(err)
		}
	}
	for w.clock.now().Before(to) {
		w.advance()
		if err := w.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *histWorkload) advance() {
	now := w.clock.now()
	y, m, d := now.In(w.loc).Date()
	next := projections.Midnight(y, m, d+1, w.loc)
	var t time.Time
	switch k := w.rng.IntN(150); {
	case k == 0:
		t = next
	case k == 1:
		t = next.Add(-time.Nanosecond)
	case k == 2:
		t = next.Add(-time.Duration(1+w.rng.IntN(3600)) * time.Second)
	default:
		t = now.Add(time.Duration(1+w.rng.IntN(50)) * time.Minute).Add(time.Duration(w.rng.IntN(1e9)))
	}
	if !t.After(now) {
		t = now.Add(time.Millisecond)
	}
	w.clock.set(t)
}

func (w *histWorkload) pick(n int) int { return w.rng.IntN(n) }

// step issues one command; the domain may refuse it (an edit of a
// cancelled alert, an overlapping shift), which appends nothing.
func (w *histWorkload) step(ctx context.Context) error {
	w.n++
	seq := w.n
	meta := command.Meta{Actor: histActors[w.pick(len(histActors))], CorrelationID: fmt.Sprintf("req-%d", seq)}
	now := w.clock.now()
	y, m, d := now.In(w.loc).Date()
	date := time.Date(y, m, d+w.pick(3)-1, 12, 0, 0, 0, time.UTC).Format(time.DateOnly) // yesterday, today or tomorrow
	if w.pick(2) == 0 {
		date = now.In(w.loc).Format(time.DateOnly)
	}
	exec := func(stream string, c domain.Command) error {
		_, err := w.cmds.Execute(ctx, stream, meta, nil, command.Command(c))
		var re *domain.RuleError
		var ve *domain.ValidationError
		if errors.As(err, &re) || errors.As(err, &ve) || errors.Is(err, domain.ErrNotFound) {
			w.refused++
			return nil
		}
		return err
	}
	nEntries := len(w.entries[date])
	switch k := w.pick(20); {
	case k <= 2 || len(w.alerts) == 0:
		id := fmt.Sprintf("a%04d", seq)
		w.alerts = append(w.alerts, id)
		return exec(domain.AlertStream(id), domain.DeclareAlert{ID: id, Hazard: domain.Hazards()[w.pick(len(domain.Hazards()))],
			Level: domain.Levels[w.pick(3)], Scope: w.scope(), Title: fmt.Sprintf("Alerta %d", seq), Description: "Descripción", At: now})
	case k <= 5:
		id := w.alerts[w.pick(len(w.alerts))]
		level := domain.Levels[w.pick(3)]
		title := fmt.Sprintf("Alerta %d editada", seq)
		edit := domain.EditAlert{Level: &level, Reason: "evolución", At: now}
		if w.pick(2) == 0 {
			edit.Title = &title
		}
		if w.pick(3) == 0 {
			sc := w.scope()
			edit.Region, edit.Provincias, edit.Comunas = &sc.Region, &sc.Provincias, &sc.Comunas
		}
		return exec(domain.AlertStream(id), edit)
	case k <= 7:
		return exec(domain.AlertStream(w.alerts[w.pick(len(w.alerts))]), domain.CancelAlert{Reason: "condiciones superadas", At: now})
	case k <= 10:
		i := w.pick(len(histSlots))
		if w.pick(4) == 0 {
			return exec(domain.RosterStream(date), domain.UnassignShift{Date: date, Slot: histSlots[i], At: now})
		}
		return exec(domain.RosterStream(date), domain.AssignShift{Date: date, Slot: histSlots[i], Start: histHours[i][0], End: histHours[i][1],
			Lead: histPeople[w.pick(len(histPeople))], Operators: []string{histPeople[w.pick(len(histPeople))]}, At: now})
	case k <= 15 || nEntries == 0:
		id := fmt.Sprintf("e%05d", seq)
		w.entries[date] = append(w.entries[date], id)
		c := domain.AddLogEntry{EntryID: id, Date: date, Category: domain.Categories[w.pick(len(domain.Categories))], Text: fmt.Sprintf("Novedad %d", seq), By: meta.Actor.Username, At: now}
		if w.pick(2) == 0 {
			c.Comunas = []string{w.comuna()}
		}
		return exec(domain.LogStream(date), c)
	case k <= 18:
		id := w.entries[date][w.pick(nEntries)]
		return exec(domain.LogStream(date), domain.CorrectLogEntry{EntryID: id, Text: fmt.Sprintf("Novedad corregida %d", seq), Reason: "error de tipeo", By: meta.Actor.Username, At: now})
	}
	return exec(domain.InformeStream(date), domain.ReceiveInforme{Header: domain.InformeHeader{Date: date, Number: fmt.Sprint(seq), Title: "Informe diario", Source: "correo", IssuedAt: now, Summary: "Sin novedades mayores"}, At: now})
}

var (
	histSlots  = []string{"am", "pm", "noche"}
	histHours  = [][2]string{{"08:00", "16:00"}, {"16:00", "00:00"}, {"00:00", "08:00"}}
	histPeople = []string{"Ana Rojas", "Bruno Díaz", "Carla Soto", "Diego Paz"}
)

func (w *histWorkload) comuna() string { return testgen.Comuna(w.pick) }

func (w *histWorkload) scope() domain.Scope { return testgen.Scope(w.pick) }

// The hub serves time travel: it writes day snapshots as the log passes
// midnight, and answers a past day's informe, its changes and its PDF.
// (The dates are after the real one: the test's cookie jar drops cookies
// that expired by the machine's clock.)
func TestHubServesInformes(t *testing.T) {
	loc := mustSantiago(t)
	clock := &histClock{t: time.Date(2027, 4, 3, 10, 0, 0, 0, loc)}
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = t.TempDir()
	m.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	m.Config.AdminUser, m.Config.AdminPassword = testAdmin, testPassword
	m.PasswordParams = auth.TestParams
	m.Now = clock.now
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	var alert projections.AlertView
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"marejadas","level":"amarilla","title":"Marejadas anormales","comunas":["05101"]}`, &alert); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	// Sunday, after the 25-hour Saturday: the alert is cancelled.
	clock.set(time.Date(2027, 4, 4, 9, 0, 0, 0, loc))
	c = newClient(t, m.Addr(), testAdmin, testPassword)
	if code, _, err := c.call("POST", "/api/alerts/"+alert.ID+"/cancel", map[string]string{"If-Match": `"0"`}, `{"reason":"fin"}`, nil); err != nil || code != 200 {
		t.Fatalf("cancel: %d %v", code, err)
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		if s, ok, err := m.snapshots.Latest(context.Background(), projections.SnapshotVersion); err != nil {
			t.Fatal(err)
		} else if ok && s.Boundary.Equal(time.Date(2027, 4, 4, 4, 0, 0, 0, time.UTC)) {
			if _, has := s.Alerts["alert-"+alert.ID]; !has {
				t.Fatalf("the snapshot at the end of Saturday lacks the alert in force: %v", s.Alerts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub wrote no snapshot at the end of Saturday 3 April 2027")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var v projections.InformeView
	if code, _, err := c.call("GET", "/api/informes/2027-04-03", nil, "", &v); err != nil || code != 200 {
		t.Fatalf("informe: %d %v", code, err)
	}
	if len(v.Alerts) != 1 || v.Alerts[0].ID != alert.ID || !v.AsOf.Equal(time.Date(2027, 4, 4, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("informe of Saturday: %+v", v)
	}
	var ch projections.InformeChanges
	if code, _, err := c.call("GET", "/api/informes/2027-04-04/changes", nil, "", &ch); err != nil || code != 200 || len(ch.Changes) != 1 || ch.Changes[0].Type != "alert.cancelled" {
		t.Fatalf("changes of Sunday: %d %v %+v", code, err, ch)
	}
	code, hdr, err := c.call("GET", "/api/informes/2027-04-03.pdf", nil, "", nil)
	if err != nil || code != 200 || hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %v %v", code, err, hdr)
	}
}
