package postgres

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

// TestStateJSONIsWhatJSONMarshalWrites: the state encoder that reuses log
// entries' JSON writes exactly what encoding/json writes, so a field added
// to domain.Log or a change of encoding cannot slip past it; and a log
// row's JSON (the view) is its entry's.
func TestStateJSONIsWhatJSONMarshalWrites(t *testing.T) {
	at := time.Date(2026, 1, 15, 12, 0, 0, 123456789, time.FixedZone("CLT", -3*3600))
	entry := func(id, text string, comunas []string) *domain.LogEntry {
		return &domain.LogEntry{ID: id, Date: "2026-01-15", Category: domain.CategoryIncidente, Text: text, Comunas: comunas, By: "ana", At: at, Version: 2, Corrected: true, CorrectedBy: "beto", CorrectedAt: at, Reason: "<corrige> & \"cita\" \u2028"}
	}
	states := []*projections.StreamState{
		{Log: &domain.Log{Date: "2026-01-15", Entries: []*domain.LogEntry{entry("e1", "uno", nil), entry("e2", "dós <b>", []string{"05101"})}}},
		{Log: &domain.Log{Date: "2026-01-15"}},
		{Log: &domain.Log{Date: "2026-01-15", Entries: []*domain.LogEntry{}}},
		{Alert: &projections.AlertState{Alert: domain.Alert{ID: "a1", Title: "Viento"}, Version: 3}},
		{Roster: &projections.RosterState{Roster: domain.Roster{Date: "2026-01-15", Revisions: map[string]int{"am": 2}}}},
	}
	// A log state that went through Apply has its index built.
	applied := &domain.Log{}
	applied.Apply(&domain.LogEntryAdded{EntryID: "e9", Date: "2026-01-15", Text: "nueve", At: at})
	states = append(states, &projections.StreamState{Log: applied})
	var c entryJSON
	for i, st := range states {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.state(st)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("state %d:\n got %s\nwant %s", i, got, want)
		}
	}
	e := entry("e3", "tres", []string{})
	view, _ := json.Marshal(projections.LogEntryView{LogEntry: *e})
	raw, _ := c.entry(e)
	if !bytes.Equal(raw, view) {
		t.Fatalf("entry JSON %s, view JSON %s", raw, view)
	}
}
