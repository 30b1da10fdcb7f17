package web

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestPreconditionAnswers pins, byte for byte, every answer a conditional
// change can get (the status, the ETag and the body of 200/201, 404, 412
// and 428) for each resource edited with If-Match or If-None-Match: the
// public contract of stale edits. Run with -update to rewrite the golden
// file after a deliberate change of that contract.
func TestPreconditionAnswers(t *testing.T) {
	h := newTestHub(t)
	var out strings.Builder
	ids := map[string]string{}
	step := func(name, method, path string, headers map[string]string, body string) response {
		t.Helper()
		if headers == nil {
			headers = map[string]string{}
		}
		headers["X-Request-ID"] = "req-1"
		r := h.do(t, method, path, headers, body)
		ids[r.header.Get("X-Request-Id")] = "req-1" // the server's own, random
		fmt.Fprintf(&out, "## %s\n%s %s\n%d ETag=%s\n%s\n\n", name, method, path, r.status, r.header.Get("ETag"), r.raw)
		return r
	}

	r := step("declare", "POST", "/api/alerts", nil, fireAlert)
	alert := r.body["id"].(string)
	ids[alert] = "<alert>"
	a := "/api/alerts/" + alert
	step("edit an alert without If-Match", "PATCH", a, nil, `{"level":"roja"}`)
	step("edit an alert at a malformed version", "PATCH", a, map[string]string{"If-Match": "tres"}, `{"level":"roja"}`)
	step("edit an alert at a stale version", "PATCH", a, map[string]string{"If-Match": `"4"`}, `{"level":"roja"}`)
	step("edit an alert", "PATCH", a, map[string]string{"If-Match": `W/"0"`}, `{"level":"roja"}`)
	step("edit a missing alert", "PATCH", "/api/alerts/4b1d1a5e-0000-4000-8000-000000000000", map[string]string{"If-Match": `"0"`}, `{"level":"roja"}`)
	step("cancel an alert at a stale version", "POST", a+"/cancel", map[string]string{"If-Match": `"0"`}, "")
	step("cancel a missing alert", "POST", "/api/alerts/4b1d1a5e-0000-4000-8000-000000000000/cancel", map[string]string{"If-Match": `"0"`}, "")
	step("cancel an alert", "POST", a+"/cancel", map[string]string{"If-Match": `"1"`}, `{"reason":"controlado"}`)

	const day = `{"start":"08:00","end":"20:00","lead":"Carolina Muñoz","operators":["Diego Rojas"]}`
	s := "/api/shifts/2026-01-15/"
	step("assign without a precondition", "PUT", s+"dia", nil, day)
	step("assign a slot of a day with no roster at a version", "PUT", "/api/shifts/2026-01-16/dia", map[string]string{"If-Match": `"3"`}, day)
	step("assign an empty slot", "PUT", s+"dia", map[string]string{"If-None-Match": "*"}, day)
	step("assign an assigned slot with If-None-Match", "PUT", s+"dia", map[string]string{"If-None-Match": "*"}, day)
	step("assign a slot at a stale version", "PUT", s+"dia", map[string]string{"If-Match": `"7"`}, day)
	step("assign a slot never assigned at version 0", "PUT", s+"tarde", map[string]string{"If-Match": `"0"`}, `{"start":"20:00","end":"23:00","lead":"Felipe"}`)
	step("unassign a slot at a stale version", "DELETE", s+"dia", map[string]string{"If-Match": `"0"`}, "")
	step("unassign a slot", "DELETE", s+"dia", map[string]string{"If-Match": `"1"`}, "")
	step("unassign an empty slot at its version", "DELETE", s+"dia", map[string]string{"If-Match": `"2"`}, "")
	step("unassign an empty slot at another version", "DELETE", s+"dia", map[string]string{"If-Match": `"5"`}, "")
	step("unassign a slot never assigned", "DELETE", s+"noche", map[string]string{"If-Match": `"0"`}, "")
	step("assign an emptied slot at a stale version", "PUT", s+"dia", map[string]string{"If-Match": `"1"`}, day)
	step("assign an emptied slot at its version", "PUT", s+"dia", map[string]string{"If-Match": `"2"`}, day)
	step("unassign without If-Match", "DELETE", s+"dia", nil, "")

	r = step("add a log entry", "POST", "/api/log", nil, `{"text":"Se activa el COE comunal","comunas":["Quilpué"],"category":"coordinacion"}`)
	entry := r.body["id"].(string)
	ids[entry] = "<entry>"
	e := "/api/log/" + entry
	step("correct an entry without If-Match", "PATCH", e, nil, `{"text":"y"}`)
	step("correct an entry at a stale version", "PATCH", e, map[string]string{"If-Match": `"2"`}, `{"text":"y"}`)
	step("correct an entry", "PATCH", e, map[string]string{"If-Match": `"1"`}, `{"text":"Se activa el COE comunal de Quilpué","reason":"precisión"}`)
	step("correct a missing entry", "PATCH", "/api/log/4b1d1a5e-0000-4000-8000-000000000000", map[string]string{"If-Match": `"1"`}, `{"text":"z"}`)

	h.as = "admin"
	r = step("create a user", "POST", "/api/users", nil, `{"username":"pedro.diaz","display_name":"Pedro","role":"operator","password":"`+testPassword+`"}`)
	u := "/api/users/" + r.body["id"].(string)
	step("edit a user without If-Match", "PATCH", u, nil, `{"role":"viewer"}`)
	step("edit a user at a stale version", "PATCH", u, map[string]string{"If-Match": `"3"`}, `{"role":"viewer"}`)
	step("edit a user twice in one request", "PATCH", u, map[string]string{"If-Match": `"0"`}, `{"role":"viewer","disabled":true,"reason":"traslado"}`)
	step("edit a missing user", "PATCH", "/api/users/4b1d1a5e-0000-4000-8000-000000000000", map[string]string{"If-Match": `"0"`}, `{"role":"viewer"}`)

	got := out.String()
	for id, label := range ids { // random IDs
		got = strings.ReplaceAll(got, id, label)
	}
	golden := filepath.Join("testdata", "preconditions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("answers differ from %s (-update rewrites it):\n%s", golden, diffLines(string(want), got))
	}
}

// diffLines lists the lines of got that differ from want, by line number.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
