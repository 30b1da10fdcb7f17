package web

import (
	"strings"
	"testing"
)

// Issue 14 item 9: /api/users is admin-only, so the user directory must not
// be readable through the audit by a supervisor (or a token) either.
func TestAuditHidesUserRecordsFromNonAdmins(t *testing.T) {
	h := newTestHub(t)
	_, bearer := supervisorToken(t, h)
	for _, who := range []struct {
		name    string
		headers map[string]string
	}{{"supervisor session", nil}, {"supervisor token", bearer}} {
		for _, q := range []string{"?stream=user-", "?stream=user-" + h.userID(t, "ana"), "?type=user.created", "?stream=user-&format=csv"} {
			if r := h.do(t, "GET", "/api/audit"+q, who.headers, ""); r.status != 403 {
				t.Errorf("%s, %s: got %d, want 403", who.name, q, r.status)
			}
		}
		r := h.do(t, "GET", "/api/audit", who.headers, "")
		if r.status != 200 {
			t.Fatalf("%s, unfiltered: got %d %s", who.name, r.status, r.raw)
		}
		if strings.Contains(r.raw, `"stream":"user-`) || strings.Contains(r.raw, "user.created") {
			t.Errorf("%s, unfiltered: user records listed: %s", who.name, r.raw)
		}
		r = h.do(t, "GET", "/api/audit?format=csv", who.headers, "")
		if r.status != 200 || strings.Contains(r.raw, "user-") || strings.Contains(r.raw, "user.created") {
			t.Errorf("%s, CSV: got %d with user records: %s", who.name, r.status, r.raw)
		}
	}
	h.as = "admin"
	r := h.do(t, "GET", "/api/audit?stream=user-", nil, "")
	if r.status != 200 || !strings.Contains(r.raw, "user.created") {
		t.Errorf("admin, user streams: got %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/api/audit", nil, ""); !strings.Contains(r.raw, "user.created") {
		t.Errorf("admin, unfiltered: no user records: %s", r.raw)
	}
}
