package domain

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInformeV1IsUpcast(t *testing.T) {
	v1 := `{"date":"2025-06-11","number":"12","title":"Informe","source":"correo","issued_at":"2025-06-11T18:15:00-04:00","summary":"","at":"2025-06-11T22:20:00Z"}`
	e, err := Decode("informe.received", 1, []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	r := e.(*InformeReceived)
	if r.Edition != EditionPM || r.Time != "18:15" || r.Source != "correo" || r.Title != "Informe" || r.Content != nil {
		t.Fatalf("upcast = %+v, want PM at 18:15 with the v1 header and no content", r)
	}
	am := strings.Replace(v1, "18:15:00", "09:35:00", 1)
	e, err = Decode("informe.received", 1, []byte(am))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.(*InformeReceived); r.Edition != EditionAM || r.Time != "09:35" {
		t.Fatalf("morning upcast = %s %s, want AM 09:35", r.Edition, r.Time)
	}
	if typ, schema, _, _ := Encode(r); typ != "informe.received" || schema != 2 {
		t.Fatalf("Encode writes %s schema %d, want schema 2", typ, schema)
	}
}

func receive(date, edition, sha string) ReceiveInforme {
	return ReceiveInforme{
		Header: InformeHeader{Date: date, Title: "Informe de Situación Regional", Source: SourceUpload},
		Edition: InformeEdition{Edition: edition, Time: "09:35", Filename: "informe.docx", SHA256: sha,
			Content: json.RawMessage(`{"alertas":[]}`)},
		At: time.Date(2025, 6, 11, 13, 0, 0, 0, time.UTC),
	}
}

func TestInformeDecide(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	t.Run("the same file twice is recorded once", func(t *testing.T) {
		var i Informe
		evs, err := i.Decide(receive("2025-06-11", EditionAM, sha))
		if err != nil || len(evs) != 1 {
			t.Fatalf("first: %v, %v", evs, err)
		}
		i.Apply(evs[0])
		evs, err = i.Decide(receive("2025-06-11", EditionAM, strings.ToUpper(sha)))
		if err != nil || len(evs) != 0 {
			t.Fatalf("second: got %d events, %v; want none", len(evs), err)
		}
	})
	t.Run("two editions and a correction are all kept", func(t *testing.T) {
		var i Informe
		for _, c := range []ReceiveInforme{receive("2025-06-11", EditionAM, sha), receive("2025-06-11", EditionPM, other), receive("2025-06-11", EditionAM, strings.Repeat("ef", 32))} {
			evs, err := i.Decide(c)
			if err != nil || len(evs) != 1 {
				t.Fatalf("decide: %v, %v", evs, err)
			}
			i.Apply(evs[0])
		}
		if i.Versions != 3 || len(i.Received) != 3 || i.Received[2].SHA256 != strings.Repeat("ef", 32) {
			t.Fatalf("state = %d versions, %+v", i.Versions, i.Received)
		}
	})
	bad := []struct {
		name, field string
		edit        func(*ReceiveInforme)
	}{
		{"edition", "edition", func(c *ReceiveInforme) { c.Edition.Edition = "MD" }},
		{"time", "time", func(c *ReceiveInforme) { c.Edition.Time = "25:99" }},
		{"sha256", "sha256", func(c *ReceiveInforme) { c.Edition.SHA256 = "xyz" }},
		{"content not an object", "content", func(c *ReceiveInforme) { c.Edition.Content = json.RawMessage(`[1]`) }},
		{"content too large", "content", func(c *ReceiveInforme) {
			c.Edition.Content = json.RawMessage(`{"x":"` + strings.Repeat("a", MaxInformeContent) + `"}`)
		}},
		{"date", "date", func(c *ReceiveInforme) { c.Header.Date = "11/06/2025" }},
	}
	for _, tc := range bad {
		t.Run("rejects a bad "+tc.name, func(t *testing.T) {
			c := receive("2025-06-11", EditionAM, sha)
			tc.edit(&c)
			var i Informe
			_, err := i.Decide(c)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Fatalf("got %v, want a field error on %s", err, tc.field)
			}
		})
	}
}
