package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	events := []Event{
		&AlertDeclared{AlertID: "a", Hazard: HazardTsunami, Level: LevelRoja, Region: true, Provincias: []string{}, Comunas: []string{}, Title: "T", At: t0},
		&AlertLevelChanged{From: LevelAmarilla, To: LevelRoja, Reason: "r", At: t0},
		&ShiftAssigned{Date: "2026-01-15", Slot: "dia", Start: "08:00", End: "20:00", Operators: []string{"Ana"}, At: t0},
		&LogEntryCorrected{EntryID: "e", Category: CategoryNovedad, Text: "x", Comunas: []string{}, At: t0},
		&UserCreated{UserID: "u", Username: "ana", Role: "operator", PasswordHash: "h", At: t0},
		&InformeReceived{InformeHeader: InformeHeader{Date: "2026-01-15", Title: "Informe", Source: "upload"}, At: t0},
	}
	for _, e := range events {
		t.Run(e.EventType(), func(t *testing.T) {
			typ, schema, data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(typ, schema, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("got %#v, want %#v", got, e)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := Decode("alert.exploded", 1, []byte(`{}`)); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("got %v, want ErrUnknownEvent", err)
	}
	if _, err := Decode("alert.declared", 99, []byte(`{}`)); err == nil {
		t.Fatal("a schema newer than the build must be refused")
	}
	if _, err := Decode("alert.declared", 1, []byte(`{"level":`)); err == nil {
		t.Fatal("broken JSON must be refused")
	}
}

func TestUpcasting(t *testing.T) {
	// Simulate a schema 2 of alert.cancelled whose reason moved to "motivo".
	CurrentSchema["alert.cancelled"] = 2
	upcasters["alert.cancelled"] = map[int]func(json.RawMessage) (json.RawMessage, error){
		1: func(in json.RawMessage) (json.RawMessage, error) { return in, nil },
	}
	defer func() { CurrentSchema["alert.cancelled"] = 1; delete(upcasters, "alert.cancelled") }()
	e, err := Decode("alert.cancelled", 1, []byte(`{"reason":"fin"}`))
	if err != nil || e.(*AlertCancelled).Reason != "fin" {
		t.Fatalf("got %v %v", e, err)
	}
	if _, err := Decode("alert.level_changed", 0, []byte(`{}`)); err != nil {
		t.Fatalf("schema 0 reads as 1: %v", err)
	}
}
