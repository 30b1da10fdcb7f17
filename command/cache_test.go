package command

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

var t0 = time.Date(2026, 2, 3, 14, 0, 0, 0, time.UTC)

// histories has, for each aggregate, events to fold before cloning and
// events to fold after, into the clone or the original. Together they hold
// every event type the domain registers (TestCloneIsIndependent checks
// that), so a new event type whose Apply would break clone's assumptions
// is tested as soon as it exists.
var histories = []struct {
	stream       string
	before, more []domain.Event
}{
	{"alert-1", []domain.Event{
		&domain.AlertDeclared{AlertID: "1", Hazard: "incendio_forestal", Level: "amarilla", Provincias: []string{"058"}, Comunas: []string{"05801"}, Title: "t", At: t0},
	}, []domain.Event{
		&domain.AlertLevelChanged{From: "amarilla", To: "roja", At: t0.Add(time.Minute)},
		&domain.AlertScopeChanged{Provincias: []string{"051"}, Comunas: []string{"05101", "05109"}, At: t0.Add(2 * time.Minute)},
		&domain.AlertDetailsUpdated{Title: "u", Description: "d", Resolution: "r", At: t0.Add(3 * time.Minute)},
		&domain.AlertCancelled{Reason: "fin", At: t0.Add(4 * time.Minute)},
	}},
	{"roster-2026-02-03", []domain.Event{
		&domain.ShiftAssigned{Date: "2026-02-03", Slot: "am", Start: "08:00", End: "16:00", Lead: "ana", Operators: []string{"ana", "beto"}, At: t0},
		&domain.ShiftAssigned{Date: "2026-02-03", Slot: "pm", Start: "16:00", End: "23:59", Lead: "carla", At: t0},
	}, []domain.Event{
		&domain.ShiftAssigned{Date: "2026-02-03", Slot: "am", Start: "08:00", End: "15:00", Lead: "beto", Operators: []string{"beto"}, At: t0.Add(time.Minute)},
		&domain.ShiftUnassigned{Date: "2026-02-03", Slot: "pm", At: t0.Add(2 * time.Minute)},
		&domain.ShiftAssigned{Date: "2026-02-03", Slot: "noche", Start: "00:00", End: "08:00", Lead: "dora", At: t0.Add(3 * time.Minute)},
	}},
	{"log-2026-02-03", []domain.Event{
		&domain.LogEntryAdded{EntryID: "e1", Date: "2026-02-03", Category: "novedad", Text: "uno", Comunas: []string{"05801"}, By: "ana", At: t0},
		&domain.LogEntryAdded{EntryID: "e2", Date: "2026-02-03", Category: "novedad", Text: "dos", By: "ana", At: t0},
	}, []domain.Event{
		&domain.LogEntryCorrected{EntryID: "e1", Category: "incidente", Text: "uno bis", Comunas: []string{"05804"}, By: "beto", At: t0.Add(time.Minute)},
		&domain.LogEntryAdded{EntryID: "e3", Date: "2026-02-03", Category: "novedad", Text: "tres", By: "beto", At: t0.Add(2 * time.Minute)},
		&domain.LogEntryCorrected{EntryID: "e2", Category: "novedad", Text: "dos bis", By: "beto", At: t0.Add(3 * time.Minute)},
	}},
	{"user-1", []domain.Event{
		&domain.UserCreated{UserID: "1", Username: "ana", DisplayName: "Ana", Role: "operator", PasswordHash: "h1", At: t0},
	}, []domain.Event{
		&domain.UserRoleChanged{From: "operator", To: "supervisor", At: t0.Add(time.Minute)},
		&domain.UserPasswordChanged{PasswordHash: "h2", At: t0.Add(2 * time.Minute)},
		&domain.UserDisabled{Reason: "baja", At: t0.Add(3 * time.Minute)},
	}},
	{"informe-2026-02-03", []domain.Event{
		&domain.InformeReceived{InformeHeader: domain.InformeHeader{Date: "2026-02-03", Number: "1", Title: "Informe", Source: "correo", IssuedAt: t0}, InformeEdition: domain.InformeEdition{SHA256: "aa"}, At: t0},
		&domain.InformeItemDecided{ItemDecision: domain.ItemDecision{SHA256: "aa", ItemID: "i1", Accepted: true, At: t0}},
	}, []domain.Event{
		&domain.InformeReceived{InformeHeader: domain.InformeHeader{Date: "2026-02-03", Number: "2", Title: "Informe 2", Source: "correo", IssuedAt: t0}, At: t0.Add(time.Minute)},
		&domain.InformeItemDecided{ItemDecision: domain.ItemDecision{SHA256: "aa", ItemID: "i2", Reason: "no aplica", At: t0}},
	}},
}

func fold(t *testing.T, stream string, evs ...[]domain.Event) domain.Aggregate {
	t.Helper()
	a := domain.NewAggregate(stream)
	for _, part := range evs {
		for _, e := range part {
			a.Apply(e)
		}
	}
	return a
}

// view is what an aggregate shows (its exported state).
func view(t *testing.T, a domain.Aggregate) string {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("marshal %T: %v", a, err)
	}
	return string(b)
}

// A clone and its original never see each other's changes, whichever of
// them goes on folding events.
func TestCloneIsIndependent(t *testing.T) {
	covered := map[string]bool{}
	for _, h := range histories {
		for _, e := range slices.Concat(h.before, h.more) {
			covered[e.EventType()] = true
		}
		t.Run(h.stream, func(t *testing.T) {
			before := view(t, fold(t, h.stream, h.before))
			after := view(t, fold(t, h.stream, h.before, h.more))

			orig := fold(t, h.stream, h.before)
			c, ok := clone(orig)
			if !ok {
				t.Fatalf("clone(%T) not supported", orig)
			}
			if got := view(t, c); got != before {
				t.Fatalf("clone is %s, want %s", got, before)
			}
			for _, e := range h.more {
				c.Apply(e)
			}
			if got := view(t, c); got != after {
				t.Errorf("clone after more events is %s, want %s", got, after)
			}
			if !reflect.DeepEqual(orig, fold(t, h.stream, h.before)) {
				t.Errorf("folding into the clone changed the original: %s", view(t, orig))
			}

			c, _ = clone(orig)
			for _, e := range h.more {
				orig.Apply(e)
			}
			if got := view(t, c); got != before {
				t.Errorf("folding into the original changed the clone: %s, want %s", got, before)
			}
		})
	}
	for typ := range domain.CurrentSchema {
		if !covered[typ] {
			t.Errorf("event type %s is in no history: add it, so that clone is checked against its Apply", typ)
		}
	}
}

// clone copies each aggregate knowing its fields; one added to an
// aggregate must be checked against clone (and added here).
func TestCloneKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[domain.Alert]():   {"ID", "Hazard", "Level", "Status", "Scope", "Title", "Description", "Resolution", "DeclaredAt", "UpdatedAt", "CancelReason"},
		reflect.TypeFor[domain.User]():    {"ID", "Username", "DisplayName", "Role", "PasswordHash", "Disabled", "CreatedAt", "UpdatedAt"},
		reflect.TypeFor[domain.Informe](): {"Date", "Header", "Versions", "Received", "Decisions"},
		reflect.TypeFor[domain.Roster]():  {"Date", "Slots", "SlotVersions"},
		reflect.TypeFor[domain.Log]():     {"Date", "Entries", "index", "indexed"},
	}
	for typ, want := range known {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s has fields %v, clone was written for %v", typ, got, want)
		}
	}
	for _, h := range histories {
		typ := reflect.TypeOf(domain.NewAggregate(h.stream)).Elem()
		if _, ok := known[typ]; !ok {
			t.Errorf("aggregate %s is not checked", typ)
		}
	}
}

func TestCacheKeepsTheMostRecentlyUsed(t *testing.T) {
	c := newCache(2)
	put := func(stream string, revision uint64) {
		c.put(Loaded{Stream: stream, State: domain.NewAggregate(stream), Revision: revision, Last: &eventstore.Event{Version: revision}})
	}
	put("alert-1", 0)
	put("alert-2", 0)
	if _, ok := c.get("alert-1"); !ok { // alert-2 is now the least recently used
		t.Fatal("alert-1 not cached")
	}
	put("alert-3", 0)
	for stream, want := range map[string]bool{"alert-1": true, "alert-2": false, "alert-3": true} {
		if _, ok := c.get(stream); ok != want {
			t.Errorf("%s cached: %v, want %v", stream, ok, want)
		}
	}
	put("alert-1", 5)
	put("alert-1", 3) // an older fold arriving late does not replace a newer one
	if l, _ := c.get("alert-1"); l.Revision != 5 || l.Last.Version != 5 {
		t.Errorf("alert-1 cached at %d (last %d), want 5", l.Revision, l.Last.Version)
	}
	if n := c.order.Len(); n != 2 || len(c.streams) != 2 {
		t.Errorf("cache holds %d (%d indexed), want 2", n, len(c.streams))
	}
	if newCache(0) != nil {
		t.Error("a cache of size 0 is not off")
	}
	if _, ok := (*cache)(nil).get("alert-1"); ok {
		t.Error("an off cache returned a state")
	}
}
