package web

import (
	"testing"
)

// supervisorToken adds the supervisor sofia, logged in as h's current user,
// and has her mint a supervisor token: the answer and its Authorization
// header.
func supervisorToken(t *testing.T, h *testHub) (response, map[string]string) {
	t.Helper()
	h.addUser(t, "sofia", "supervisor")
	h.as = "sofia"
	r := h.do(t, "POST", "/api/tokens", nil, `{"name":"script","role":"supervisor"}`)
	if r.status != 201 {
		t.Fatalf("create token: got %d %s", r.status, r.raw)
	}
	return r, map[string]string{"Authorization": "Bearer " + r.body["token"].(string)}
}

// Issue 14 item 3, as reported: a supervisor mints a token; an admin
// disables the supervisor; the token must stop reading the audit, and no
// token may mint tokens.
func TestTokenOfDisabledSupervisorStopsWorking(t *testing.T) {
	h := newTestHub(t)
	r, bearer := supervisorToken(t, h)
	if r.body["expires_at"] == nil {
		t.Errorf("token without expiry: %s", r.raw)
	}
	if r := h.do(t, "GET", "/api/audit", bearer, ""); r.status != 200 {
		t.Fatalf("token reads the audit: got %d %s", r.status, r.raw)
	}
	if r := h.do(t, "POST", "/api/tokens", bearer, `{"name":"child","role":"viewer"}`); r.status != 403 {
		t.Errorf("token mints a token: got %d %s, want 403", r.status, r.raw)
	}

	h.as = "admin"
	id := h.userID(t, "sofia")
	if r := h.do(t, "PATCH", "/api/users/"+id, map[string]string{"If-Match": `"0"`}, `{"disabled":true,"reason":"traslado"}`); r.status != 200 {
		t.Fatalf("disable: got %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/audit", bearer, ""); r.status != 401 {
		t.Errorf("token of a disabled supervisor reads the audit: got %d, want 401", r.status)
	}
}

func TestTokenOfDemotedSupervisorLosesTheAudit(t *testing.T) {
	h := newTestHub(t)
	_, bearer := supervisorToken(t, h)
	h.as = "admin"
	id := h.userID(t, "sofia")
	if r := h.do(t, "PATCH", "/api/users/"+id, map[string]string{"If-Match": `"0"`}, `{"role":"viewer"}`); r.status != 200 {
		t.Fatalf("demote: got %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/audit", bearer, ""); r.status != 403 {
		t.Errorf("token of a demoted supervisor reads the audit: got %d, want 403", r.status)
	}
	if r := h.do(t, "GET", "/api/alerts", bearer, ""); r.status != 200 {
		t.Errorf("token of a demoted supervisor still reads as a viewer: got %d", r.status)
	}
}

func TestTokenExpiryDays(t *testing.T) {
	h := newTestHub(t)
	h.as = "admin"
	cases := []struct {
		body   string
		status int
		want   string
	}{
		{`{"name":"a","role":"viewer"}`, 201, "2026-04-15T15:00:00Z"},
		{`{"name":"b","role":"viewer","expires_in_days":365}`, 201, "2027-01-15T15:00:00Z"},
		{`{"name":"c","role":"viewer","expires_in_days":366}`, 422, ""},
		{`{"name":"d","role":"viewer","expires_in_days":0}`, 422, ""},
		{`{"name":"e","role":"viewer","expires_in":"9000h"}`, 422, ""},
	}
	for _, tc := range cases {
		r := h.do(t, "POST", "/api/tokens", nil, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: got %d %s, want %d", tc.body, r.status, r.raw, tc.status)
			continue
		}
		if tc.want != "" && r.body["expires_at"] != tc.want {
			t.Errorf("%s: expires_at got %v, want %s", tc.body, r.body["expires_at"], tc.want)
		}
	}
}

// Issue 14 item 9: a supervisor neither lists nor revokes admin tokens.
func TestSupervisorCannotSeeOrRevokeAdminTokens(t *testing.T) {
	h := newTestHub(t)
	h.addUser(t, "sofia", "supervisor")
	h.as = "admin"
	r := h.do(t, "POST", "/api/tokens", nil, `{"name":"root","role":"admin"}`)
	if r.status != 201 {
		t.Fatalf("create: got %d %s", r.status, r.raw)
	}
	adminTok := r.body["id"].(string)
	h.as = "sofia"
	r = h.do(t, "POST", "/api/tokens", nil, `{"name":"muro","role":"display"}`)
	if r.status != 201 {
		t.Fatalf("create: got %d %s", r.status, r.raw)
	}
	supTok := r.body["id"].(string)
	r = h.do(t, "GET", "/api/tokens", nil, "")
	if list, _ := r.body["tokens"].([]any); r.status != 200 || len(list) != 1 || list[0].(map[string]any)["id"] != supTok {
		t.Errorf("supervisor's list: got %d %s, want only %s", r.status, r.raw, supTok)
	}
	if r := h.do(t, "DELETE", "/api/tokens/"+adminTok, nil, ""); r.status != 404 {
		t.Errorf("supervisor revokes an admin token: got %d, want 404", r.status)
	}
	h.as = "admin"
	r = h.do(t, "GET", "/api/tokens", nil, "")
	list, _ := r.body["tokens"].([]any)
	if len(list) != 2 {
		t.Fatalf("admin's list: got %s, want both", r.raw)
	}
	for _, l := range list {
		m := l.(map[string]any)
		want := map[string]string{adminTok: "admin", supTok: "sofia"}[m["id"].(string)]
		if m["created_by_username"] != want || m["expires_at"] == nil {
			t.Errorf("admin's list: token %v: creator %v, expiry %v; want creator %s and an expiry", m["id"], m["created_by_username"], m["expires_at"], want)
		}
	}
	if r := h.do(t, "DELETE", "/api/tokens/"+supTok, nil, ""); r.status != 204 {
		t.Errorf("admin revokes a supervisor's token: got %d", r.status)
	}
}
