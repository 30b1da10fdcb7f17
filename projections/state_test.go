package projections_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/command"
	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/eventstore/sqlite"
	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/projections"
	"github.com/senapred-valparaiso/vigia/projections/memory"
)

type recorder struct {
	mu      sync.Mutex
	notices []notice.Message
}

func (r *recorder) Notify(_ context.Context, m notice.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, m)
	return nil
}

func (r *recorder) snapshot() []notice.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notice.Message(nil), r.notices...)
}

var meta = command.Meta{Actor: eventstore.Actor{ID: "u1", Username: "ana", Role: "operator"}}

func TestProjectorRebuildsAndNotifies(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cmds := command.New(store)
	exec := func(stream string, c domain.Command) command.Result {
		t.Helper()
		res, err := cmds.Execute(ctx, stream, meta, nil, command.Command(c))
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		return res
	}
	exec(domain.AlertStream("a1"), domain.DeclareAlert{ID: "a1", Hazard: domain.HazardMarejadas, Level: domain.LevelAmarilla, Scope: domain.Scope{Provincias: []string{"056"}}, Title: "Marejadas", At: at})
	exec(domain.RosterStream("2026-01-15"), domain.AssignShift{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Lead: "Ana", At: at})

	// A model rebuilt from the log at start.
	model := memory.New()
	rec := &recorder{}
	p := projections.NewProjector(store, model, rec, zerolog.New(zerolog.NewTestWriter(t)))
	n, err := p.CatchUp(ctx)
	if err != nil || n != 2 {
		t.Fatalf("catch up: %d %v", n, err)
	}
	if a, ok, _ := model.Alert(ctx, "a1"); !ok || a.Title != "Marejadas" || a.UpdatedBy != "ana" {
		t.Fatalf("got %+v %v", a, ok)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = p.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	level := domain.LevelRoja
	res := exec(domain.AlertStream("a1"), domain.EditAlert{Level: &level, At: at.Add(time.Hour)})
	entry := exec(domain.LogStream("2026-01-15"), domain.AddLogEntry{EntryID: "e1", Date: "2026-01-15", Text: "SHOA actualiza aviso", Comunas: []string{"05601"}, By: "ana", At: at})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitFor(wctx, entry.Position); err != nil {
		t.Fatal(err)
	}
	// Notices follow the commit; wait (bounded) for both to be handed over.
	for len(rec.snapshot()) < 2 && wctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}

	got := rec.snapshot()
	if len(got) != 2 {
		t.Fatalf("got %d notices, want one per live event (2): %+v", len(got), got)
	}
	if got[0].Topic != "alerts" || got[0].Type != "alert.updated" || got[0].Position != res.Position.String() {
		t.Fatalf("got %+v", got[0])
	}
	var v projections.AlertView
	if err := json.Unmarshal(got[0].Data, &v); err != nil {
		t.Fatal(err)
	}
	if v.Level != "roja" || v.Version != 1 || !reflect.DeepEqual(got[0].Comunas, domain.Scope{Provincias: []string{"056"}}.ComunaCodes()) {
		t.Fatalf("got %+v comunas %v", v, got[0].Comunas)
	}
	if got[1].Topic != "log" || got[1].Type != "log.added" || !reflect.DeepEqual(got[1].Comunas, []string{"05601"}) {
		t.Fatalf("got %+v", got[1])
	}
	if a, _, _ := model.Alert(ctx, "a1"); a.Level != "roja" {
		t.Fatalf("read model not updated before the notice: %+v", a)
	}
}

func TestStateApplyIsIdempotent(t *testing.T) {
	s := projections.NewState()
	typ, schema, data, _ := domain.Encode(&domain.AlertDeclared{AlertID: "a1", Hazard: domain.HazardViento, Level: domain.LevelAmarilla, Region: true, Title: "Viento"})
	ev := eventstore.Event{Stream: "alert-a1", Type: typ, Schema: schema, Data: data, Position: eventstore.Seq(1)}
	if _, ok, err := s.Apply(ev); !ok || err != nil {
		t.Fatalf("first apply: %v %v", ok, err)
	}
	typ, schema, data, _ = domain.Encode(&domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja})
	ev2 := eventstore.Event{Stream: "alert-a1", Type: typ, Schema: schema, Data: data, Version: 1, Position: eventstore.Seq(2)}
	if _, ok, _ := s.Apply(ev2); !ok {
		t.Fatal("second event not applied")
	}
	if _, ok, _ := s.Apply(ev2); ok {
		t.Fatal("a redelivered event was applied twice")
	}
	if _, ok, _ := s.Apply(ev); ok {
		t.Fatal("an older event was applied after a newer one")
	}
	a, _ := s.Alert("a1")
	if a.Level != "roja" || a.Version != 1 {
		t.Fatalf("got %+v", a)
	}
}
