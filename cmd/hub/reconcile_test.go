package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

type reconItem struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Summary    string `json:"summary"`
	Actionable bool   `json:"actionable"`
	Status     string `json:"status"`
	Decision   *struct {
		By      string `json:"by"`
		Reason  string `json:"reason"`
		AlertID string `json:"alert_id"`
	} `json:"decision"`
	Proposal *struct {
		Level  string `json:"level"`
		Hazard string `json:"hazard"`
		Title  string `json:"title"`
	} `json:"proposal"`
	Alert *struct {
		ID      string `json:"id"`
		Version uint64 `json:"version"`
	} `json:"alert"`
}

type reconciliation struct {
	Informe *struct {
		Edition string `json:"edition"`
		SHA256  string `json:"sha256"`
	} `json:"informe"`
	Items []reconItem `json:"items"`
}

func (c *client) reconciliation(t *testing.T, date string) reconciliation {
	t.Helper()
	var r reconciliation
	if code, _, err := c.call("GET", "/api/informes/"+date+"/reconciliation", nil, "", &r); err != nil || code != 200 {
		t.Fatalf("reconciliation: %d %v", code, err)
	}
	return r
}

func itemOf(t *testing.T, r reconciliation, kind, hazard, level string) reconItem {
	t.Helper()
	for _, it := range r.Items {
		if it.Kind == kind && it.Status == "open" && it.Proposal != nil && it.Proposal.Hazard == hazard && (level == "" || it.Proposal.Level == level) {
			return it
		}
	}
	t.Fatalf("no open %s item for %s %s in %+v", kind, hazard, level, r.Items)
	return reconItem{}
}

type alertList struct {
	Alerts []struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Level   string `json:"level"`
		Hazard  string `json:"hazard"`
		Version uint64 `json:"version"`
	} `json:"alerts"`
}

func TestReconciliationOverHTTP(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	const day = "2025-06-11"
	if r := c.reconciliation(t, day); r.Informe != nil || len(r.Items) != 0 {
		t.Fatalf("a day without an informe: %+v", r)
	}
	code, _, up := c.upload(t, samplePM, readSample(t, samplePM))
	if code != 202 || c.waitJob(t, up.Job.ID).Status != "done" {
		t.Fatalf("upload: %d", code)
	}
	r := c.reconciliation(t, day)
	if r.Informe == nil || r.Informe.Edition != "PM" || len(r.Items) != 3 {
		t.Fatalf("reconciliation of the PM sample against an empty board: %+v", r)
	}
	for _, it := range r.Items {
		if it.Kind != "missing" || !it.Actionable || it.Summary == "" {
			t.Fatalf("item %+v, want an actionable missing alert with a summary", it)
		}
	}

	// Accept the meteorological row: the alert is declared as the informe says.
	meteo := itemOf(t, r, "missing", "evento_meteorologico", "")
	var accepted struct {
		Item reconItem `json:"item"`
	}
	if code, _, err := c.call("POST", "/api/informes/"+day+"/reconciliation/"+meteo.ID+"/accept", nil, "", &accepted); err != nil || code != 200 {
		t.Fatalf("accept: %d %v", code, err)
	}
	if accepted.Item.Status != "accepted" || accepted.Item.Decision == nil || accepted.Item.Decision.By != testAdmin || accepted.Item.Decision.AlertID == "" {
		t.Fatalf("accepted item = %+v", accepted.Item)
	}
	var board alertList
	if code, _, err := c.call("GET", "/api/alerts", nil, "", &board); err != nil || code != 200 {
		t.Fatalf("alerts: %d %v", code, err)
	}
	if len(board.Alerts) != 1 || board.Alerts[0].ID != accepted.Item.Decision.AlertID || board.Alerts[0].Hazard != "evento_meteorologico" || board.Alerts[0].Level != "temprana_preventiva" {
		t.Fatalf("board after accepting = %+v", board.Alerts)
	}
	if code, _, _ := c.call("POST", "/api/informes/"+day+"/reconciliation/"+meteo.ID+"/accept", nil, "", nil); code != 409 {
		t.Fatalf("accepting twice: %d, want 409", code)
	}

	// Dismiss another row: a reason is required.
	r = c.reconciliation(t, day)
	sani := itemOf(t, r, "missing", "alteracion_sanitaria", "temprana_preventiva")
	if code, _, _ := c.call("POST", "/api/informes/"+day+"/reconciliation/"+sani.ID+"/dismiss", nil, `{"reason":""}`, nil); code != 422 {
		t.Fatalf("dismiss without a reason: %d, want 422", code)
	}
	if code, _, err := c.call("POST", "/api/informes/"+day+"/reconciliation/"+sani.ID+"/dismiss", nil, `{"reason":"ya cubierta por la alerta regional"}`, &accepted); err != nil || code != 200 || accepted.Item.Status != "dismissed" {
		t.Fatalf("dismiss: %d %v %+v", code, err, accepted.Item)
	}
	r = c.reconciliation(t, day)
	statuses := map[string]string{}
	for _, it := range r.Items {
		statuses[it.ID] = it.Status
	}
	if statuses[meteo.ID] != "accepted" || statuses[sani.ID] != "dismissed" || len(r.Items) != 3 {
		t.Fatalf("items after the decisions = %+v", r.Items)
	}

	// The audit shows who accepted what from which informe.
	var audit struct {
		Entries []struct {
			Type  string `json:"type"`
			Actor struct {
				Username string `json:"username"`
			} `json:"actor"`
			Summary string `json:"summary"`
		} `json:"entries"`
	}
	if code, _, err := c.call("GET", "/api/audit?stream=informe-"+day, nil, "", &audit); err != nil || code != 200 {
		t.Fatalf("audit: %d %v", code, err)
	}
	var decided int
	for _, e := range audit.Entries {
		if e.Type == "informe.item_decided" {
			decided++
			if e.Actor.Username != testAdmin || !strings.Contains(e.Summary, "del informe PM") {
				t.Errorf("decision in the audit: %+v", e)
			}
		}
	}
	if decided != 2 {
		t.Fatalf("audit of the informe stream: %+v, want two decisions", audit.Entries)
	}
}

// An operator's edit and an accepted reconciliation racing on one alert:
// one wins, the other gets 412, nothing is lost.
func TestReconciliationRacesAnEdit(t *testing.T) {
	m := startMain(t, t.TempDir())
	c := newClient(t, m.Addr(), testAdmin, testPassword)
	const day = "2025-06-11"
	code, _, up := c.upload(t, samplePM, readSample(t, samplePM))
	if code != 202 || c.waitJob(t, up.Job.ID).Status != "done" {
		t.Fatalf("upload: %d", code)
	}
	// On the board the Los Andes alert is only Temprana Preventiva: the
	// informe says Amarilla.
	var declared struct {
		ID      string `json:"id"`
		Version uint64 `json:"version"`
	}
	if code, _, err := c.call("POST", "/api/alerts", nil, `{"hazard":"alteracion_sanitaria","level":"temprana_preventiva","provincias":["053"],"title":"Alerta sanitaria Los Andes"}`, &declared); err != nil || code != 201 {
		t.Fatalf("declare: %d %v", code, err)
	}
	for round := 0; round < 3; round++ {
		r := c.reconciliation(t, day)
		var level reconItem
		for _, it := range r.Items {
			if it.Kind == "level" && it.Status == "open" && it.Alert != nil && it.Alert.ID == declared.ID {
				level = it
			}
		}
		if level.ID == "" {
			t.Fatalf("round %d: no open level item for the alert: %+v", round, r.Items)
		}
		ifMatch := map[string]string{"If-Match": fmt.Sprintf(`"%d"`, level.Alert.Version)}
		var wg sync.WaitGroup
		codes := make([]int, 2)
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			codes[0], _, _ = c.call("PATCH", "/api/alerts/"+declared.ID, ifMatch, fmt.Sprintf(`{"title":"Alerta sanitaria Los Andes (%d)","reason":"ajuste"}`, round), nil)
		}()
		go func() {
			defer wg.Done()
			<-start
			codes[1], _, _ = c.call("POST", "/api/informes/"+day+"/reconciliation/"+level.ID+"/accept", ifMatch, "", nil)
		}()
		close(start)
		wg.Wait()
		ok, stale := 0, 0
		for _, code := range codes {
			switch code {
			case 200:
				ok++
			case 412:
				stale++
			}
		}
		if ok != 1 || stale != 1 {
			t.Fatalf("round %d: edit %d, accept %d; want one 200 and one 412", round, codes[0], codes[1])
		}
		var a struct {
			Level   string `json:"level"`
			Title   string `json:"title"`
			Version uint64 `json:"version"`
		}
		if code, _, err := c.call("GET", "/api/alerts/"+declared.ID, nil, "", &a); err != nil || code != 200 {
			t.Fatalf("alert: %d %v", code, err)
		}
		if a.Version != level.Alert.Version+1 {
			t.Fatalf("round %d: version %d after one winner from %d", round, a.Version, level.Alert.Version)
		}
		if codes[1] == 200 {
			if a.Level != "amarilla" {
				t.Fatalf("the accept won but the level is %s", a.Level)
			}
			return // decided: the race was exercised both ways or this way
		}
		if a.Title != fmt.Sprintf("Alerta sanitaria Los Andes (%d)", round) || a.Level != "temprana_preventiva" {
			t.Fatalf("the edit won but the alert is %+v", a)
		}
	}
}
