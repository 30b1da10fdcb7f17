package projections_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// TestStreamStateResumesFromJSON: a StreamState stored as JSON and read
// back folds on exactly as the one that never left memory — the property
// the Postgres read model relies on (slot revisions, log entries found for
// corrections, alert versions).
func TestStreamStateResumesFromJSON(t *testing.T) {
	at := time.Date(2026, 1, 15, 12, 0, 0, 123456789, time.UTC)
	date := "2026-01-15"
	streams := map[string][]domain.Event{
		domain.AlertStream("a1"): {
			&domain.AlertDeclared{AlertID: "a1", Hazard: domain.HazardViento, Level: domain.LevelAmarilla, Provincias: []string{"051"}, Comunas: []string{}, Title: "Viento", At: at},
			&domain.AlertLevelChanged{From: domain.LevelAmarilla, To: domain.LevelRoja, At: at.Add(time.Hour)},
			&domain.AlertCancelled{Reason: "fin", At: at.Add(2 * time.Hour)},
		},
		domain.RosterStream(date): {
			&domain.ShiftAssigned{Date: date, Slot: "am", Start: "08:00", End: "20:00", Lead: "Ana", Operators: []string{}, At: at},
			&domain.ShiftUnassigned{Date: date, Slot: "am", At: at},
			&domain.ShiftAssigned{Date: date, Slot: "am", Start: "08:00", End: "20:00", Lead: "Bruno", Operators: []string{"Carla"}, At: at},
		},
		domain.LogStream(date): {
			&domain.LogEntryAdded{EntryID: "e1", Date: date, Category: domain.CategoryNovedad, Text: "uno", Comunas: []string{}, By: "ana", At: at},
			&domain.LogEntryAdded{EntryID: "e2", Date: date, Category: domain.CategoryNovedad, Text: "dos", Comunas: []string{"05101"}, By: "ana", At: at},
			&domain.LogEntryCorrected{EntryID: "e1", Category: domain.CategoryIncidente, Text: "uno, corregido", Comunas: []string{}, By: "beto", At: at},
			&domain.LogEntryCorrected{EntryID: "e2", Category: domain.CategoryNovedad, Text: "dos, corregido", Comunas: []string{}, By: "beto", At: at},
		},
		domain.UserStream("u1"): {
			&domain.UserCreated{UserID: "u1", Username: "ana", Role: "operator", PasswordHash: "h", At: at},
			&domain.UserRoleChanged{From: "operator", To: "admin", At: at},
		},
		domain.InformeStream(date): {
			&domain.InformeReceived{InformeHeader: domain.InformeHeader{Date: date, Title: "Informe", Source: "correo"}, At: at},
		},
	}
	for stream, evs := range streams {
		t.Run(stream, func(t *testing.T) {
			recorded := make([]eventstore.Event, len(evs))
			for i, e := range evs {
				typ, schema, data, err := domain.Encode(e)
				if err != nil {
					t.Fatal(err)
				}
				recorded[i] = eventstore.Event{Stream: stream, Type: typ, Schema: schema, Data: data, Version: uint64(i), Position: eventstore.Seq(uint64(i + 1)), Actor: eventstore.Actor{Username: "ana"}}
			}
			for cut := 1; cut < len(recorded); cut++ {
				kept, stored := &projections.StreamState{}, &projections.StreamState{}
				var want, got []projections.Change
				for i, ev := range recorded {
					e, err := projections.Decode(ev)
					if err != nil {
						t.Fatal(err)
					}
					if i == cut {
						raw, err := json.Marshal(stored)
						if err != nil {
							t.Fatal(err)
						}
						stored = &projections.StreamState{}
						if err := json.Unmarshal(raw, stored); err != nil {
							t.Fatal(err)
						}
					}
					c, _ := kept.Apply(ev, e)
					want = append(want, c)
					e2, _ := projections.Decode(ev) // events are not shared between states
					c, _ = stored.Apply(ev, e2)
					got = append(got, c)
				}
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				if string(w) != string(g) {
					t.Fatalf("stored at event %d, the notices differ:\n got %s\nwant %s", cut, g, w)
				}
				w, _ = json.Marshal(kept)
				g, _ = json.Marshal(stored)
				if string(w) != string(g) {
					t.Fatalf("stored at event %d, the states differ:\n got %s\nwant %s", cut, g, w)
				}
				if !reflect.DeepEqual(want[len(want)-1].Data, got[len(got)-1].Data) {
					t.Fatalf("stored at event %d, the last rows differ", cut)
				}
			}
		})
	}
}
