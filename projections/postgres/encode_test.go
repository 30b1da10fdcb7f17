package postgres

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

// TestStateJSONIsWhatJSONMarshalWrites: the state encoder that writes log
// entries itself writes exactly what encoding/json writes, so a change of
// encoding cannot slip past it; and a log row's JSON (the view) is its
// entry's.
func TestStateJSONIsWhatJSONMarshalWrites(t *testing.T) {
	at := time.Date(2026, 1, 15, 12, 0, 0, 123456789, time.FixedZone("CLT", -3*3600))
	entry := func(id, text string, comunas []string) *domain.LogEntry {
		return &domain.LogEntry{ID: id, Date: "2026-01-15", Category: domain.CategoryIncidente, Text: text, Comunas: comunas, By: "ana", At: at, Version: 2, Corrected: true, CorrectedBy: "beto", CorrectedAt: at, Reason: "<corrige> & \"cita\" \u2028"}
	}
	states := []*projections.StreamState{
		{Log: &domain.Log{Date: "2026-01-15", Entries: []*domain.LogEntry{entry("e1", "uno", nil), entry("e2", "dós <b>", []string{"05101"})}}},
		{Log: &domain.Log{Date: "2026-01-15"}},
		{Log: &domain.Log{Date: "2026-01-15", Entries: []*domain.LogEntry{}}},
		{Log: &domain.Log{Date: "2026-01-15", Entries: []*domain.LogEntry{nil, {ID: "e0"}}}},
		{Alert: &projections.AlertState{Alert: domain.Alert{ID: "a1", Title: "Viento"}, Version: 3}},
		{Roster: &projections.RosterState{Roster: domain.Roster{Date: "2026-01-15", SlotVersions: map[string]uint64{"am": 2}}}},
	}
	// A log state that went through Apply has its index built.
	applied := &domain.Log{}
	applied.Apply(&domain.LogEntryAdded{EntryID: "e9", Date: "2026-01-15", Text: "nueve", At: at})
	states = append(states, &projections.StreamState{Log: applied})
	for i, st := range states {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendState([]byte("prefix"), st)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("state %d:\n got %s\nwant %s", i, got, want)
		}
	}
	e := entry("e3", "tres", []string{})
	view, _ := json.Marshal(projections.LogEntryView{LogEntry: *e})
	raw, _ := appendLogEntry(nil, e)
	if !bytes.Equal(raw, view) {
		t.Fatalf("entry JSON %s, view JSON %s", raw, view)
	}
}

// TestLogEntryJSONIsWhatJSONMarshalWrites: random entries, with every
// kind of character JSON escapes, invalid UTF-8, times in zones and at
// every precision, encode as encoding/json encodes them; and the structs
// have the fields the encoder writes, no more.
func TestLogEntryJSONIsWhatJSONMarshalWrites(t *testing.T) {
	// A field added to either struct must be added to the encoder too.
	fields := func(v any) string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if f := rt.Field(i); f.IsExported() {
				out = append(out, f.Name+" "+f.Type.String()+" "+string(f.Tag))
			}
		}
		return strings.Join(out, "; ")
	}
	if got, want := fields(domain.LogEntry{}), `ID string json:"id"; Date string json:"date"; Category domain.Category json:"category"; Text string json:"text"; `+
		`Comunas []string json:"comunas"; AlertID string json:"alert_id,omitempty"; By string json:"by"; At time.Time json:"at"; Version uint64 json:"version"; `+
		`Corrected bool json:"corrected"; CorrectedBy string json:"corrected_by,omitempty"; CorrectedAt time.Time json:"corrected_at,omitempty"; Reason string json:"reason,omitempty"`; got != want {
		t.Fatalf("domain.LogEntry is now\n%s\nwas\n%s\nupdate appendLogEntry (logjson.go) and this test", got, want)
	}
	if got, want := fields(domain.Log{}), `Date string ; Entries []*domain.LogEntry `; got != want {
		t.Fatalf("domain.Log is now %s, was %s: update appendState and this test", got, want)
	}
	if got, want := fields(projections.LogEntryView{}), `LogEntry domain.LogEntry `; got != want {
		t.Fatalf("projections.LogEntryView is now %s, was %s: update appendLogEntry and this test", got, want)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Ñandú", "日本", "😀", "<", ">", "&", `"`, `\`, "/", "\x00", "\x01", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f",
		"\u2028", "\u2029", "\xff", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", " ", "'", "é"}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	zones := []*time.Location{time.UTC, time.FixedZone("CLT", -3*3600), time.FixedZone("X", 5*3600+1800), time.Local}
	tm := func() time.Time {
		if rng.IntN(5) == 0 {
			return time.Time{}
		}
		ns := []int{0, 1, 1000, 120_000_000, rng.IntN(1e9)}[rng.IntN(5)]
		return time.Date(1990+rng.IntN(60), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), ns, zones[rng.IntN(len(zones))])
	}
	for i := range 5000 {
		e := &domain.LogEntry{ID: str(), Date: str(), Category: domain.Category(str()), Text: str(), By: str(), At: tm(),
			Version: []uint64{0, 1, math.MaxUint64, rng.Uint64N(1000)}[rng.IntN(4)], Corrected: rng.IntN(2) == 0, CorrectedAt: tm()}
		if rng.IntN(2) == 0 {
			e.AlertID, e.CorrectedBy, e.Reason = str(), str(), str()
		}
		switch rng.IntN(3) {
		case 0:
			e.Comunas = []string{}
		case 1:
			e.Comunas = []string{str(), str()}
		}
		want, err := json.Marshal(projections.LogEntryView{LogEntry: *e})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendLogEntry(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("entry %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A time JSON cannot hold is an error, as with encoding/json.
	bad := &domain.LogEntry{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.Marshal(bad); err == nil {
		t.Fatal("encoding/json took year 10000")
	}
	if _, err := appendLogEntry(nil, bad); err == nil {
		t.Fatal("got no error for year 10000")
	}
}
