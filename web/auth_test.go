package web

import (
	"strings"
	"testing"
)

func TestRolesOnEveryEndpoint(t *testing.T) {
	h := newTestHub(t)
	h.addUser(t, "vera", "viewer")
	h.addUser(t, "sofia", "supervisor")
	id := h.declare(t)

	// A display token made by the admin.
	h.as = "admin"
	r := h.do(t, "POST", "/api/tokens", nil, `{"name":"pantalla sala","role":"display","expires_in":"720h"}`)
	if r.status != 201 || !strings.HasPrefix(r.body["token"].(string), "vgt_") {
		t.Fatalf("token: got %d %s", r.status, r.raw)
	}
	display := map[string]string{"Authorization": "Bearer " + r.body["token"].(string)}

	writes := []struct{ method, path, body string }{
		{"POST", "/api/alerts", fireAlert},
		{"PATCH", "/api/alerts/" + id, `{"level":"roja"}`},
		{"POST", "/api/alerts/" + id + "/cancel", `{}`},
		{"PUT", "/api/shifts/2026-01-15/dia", `{"start":"08:00","end":"20:00","lead":"x"}`},
		{"DELETE", "/api/shifts/2026-01-15/dia", ``},
		{"POST", "/api/log", `{"text":"x"}`},
		{"POST", "/api/users", `{"username":"x1","role":"viewer","password":"otra clave larga"}`},
		{"POST", "/api/tokens", `{"name":"t","role":"viewer"}`},
	}
	for _, w := range writes {
		for _, who := range []struct {
			name    string
			as      string
			headers map[string]string
			want    int
		}{
			{"anonymous", "", nil, 401},
			{"viewer", "vera", nil, 403},
			{"display token", "", display, 403},
		} {
			t.Run(who.name+" "+w.method+" "+w.path, func(t *testing.T) {
				h.as = who.as
				hdr := map[string]string{"If-Match": `"0"`}
				for k, v := range who.headers {
					hdr[k] = v
				}
				r := h.do(t, w.method, w.path, hdr, w.body)
				if r.status != who.want {
					t.Fatalf("got %d, want %d: %s", r.status, who.want, r.raw)
				}
			})
		}
	}
	t.Run("viewer and display token can read", func(t *testing.T) {
		h.as = "vera"
		if r := h.do(t, "GET", "/api/alerts", nil, ""); r.status != 200 {
			t.Fatalf("viewer got %d", r.status)
		}
		h.as = ""
		if r := h.do(t, "GET", "/api/alerts/"+id, display, ""); r.status != 200 {
			t.Fatalf("display got %d", r.status)
		}
		if r := h.do(t, "GET", "/api/alerts", map[string]string{"Authorization": "Bearer vgt_forged"}, ""); r.status != 401 {
			t.Fatalf("forged token got %d", r.status)
		}
	})
	t.Run("operator cannot manage users or tokens", func(t *testing.T) {
		h.as = "ana"
		if r := h.do(t, "GET", "/api/users", nil, ""); r.status != 403 {
			t.Fatalf("got %d", r.status)
		}
		if r := h.do(t, "POST", "/api/tokens", nil, `{"name":"t","role":"viewer"}`); r.status != 403 {
			t.Fatalf("got %d", r.status)
		}
	})
	t.Run("supervisor mints a display token but not an admin one", func(t *testing.T) {
		h.as = "sofia"
		if r := h.do(t, "POST", "/api/tokens", nil, `{"name":"sala","role":"display","expires_in":3600}`); r.status != 201 {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		if r := h.do(t, "POST", "/api/tokens", nil, `{"name":"root","role":"admin"}`); r.status != 403 {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		if r := h.do(t, "POST", "/api/tokens", nil, `{"name":"x","role":"display","expires_in":"mañana"}`); r.status != 422 {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
	})
	t.Run("every event carries the logged-in user", func(t *testing.T) {
		h.as = "sofia"
		r := h.do(t, "POST", "/api/log", nil, `{"text":"relevo de turno"}`)
		if r.status != 201 || r.body["by"] != "sofia" {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		h.as = "ana"
		a := h.do(t, "GET", "/api/alerts/"+id, nil, "")
		if a.body["updated_by"] != "ana" {
			t.Fatalf("got %v", a.body)
		}
	})
}

func TestLoginLogoutAndThrottling(t *testing.T) {
	h := newTestHub(t)
	h.as = ""
	tests := []struct {
		name string
		body string
		want int
	}{
		{"wrong password", `{"username":"ana","password":"no es esta"}`, 401},
		{"unknown user", `{"username":"nadie","password":"no es esta"}`, 401},
		{"missing fields", `{"username":""}`, 400},
		{"not JSON", `username=ana`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/auth/login", nil, tt.body)
			if r.status != tt.want {
				t.Fatalf("got %d, want %d: %s", r.status, tt.want, r.raw)
			}
		})
	}
	t.Run("me and logout", func(t *testing.T) {
		h.as = "ana"
		r := h.do(t, "GET", "/api/auth/me", nil, "")
		if r.status != 200 || r.body["username"] != "ana" || r.body["can_edit"] != true || r.body["can_admin"] != false {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		if r := h.do(t, "POST", "/api/auth/logout", nil, ""); r.status != 204 {
			t.Fatalf("logout got %d", r.status)
		}
		if r := h.do(t, "GET", "/api/alerts", nil, ""); r.status != 401 {
			t.Fatalf("after logout got %d, want 401", r.status)
		}
	})
	t.Run("repeated failures are throttled with Retry-After", func(t *testing.T) {
		h.as = ""
		var last response
		for i := 0; i < 8; i++ {
			last = h.do(t, "POST", "/api/auth/login", nil, `{"username":"admin","password":"adivinanza123"}`)
		}
		if last.status != 429 || last.header.Get("Retry-After") == "" {
			t.Fatalf("got %d Retry-After %q, want 429 with Retry-After", last.status, last.header.Get("Retry-After"))
		}
		// Even the right password is refused while locked out.
		if r := h.do(t, "POST", "/api/auth/login", nil, `{"username":"admin","password":"`+testPassword+`"}`); r.status != 429 {
			t.Fatalf("got %d", r.status)
		}
	})
}

func TestCrossSiteCookieWritesAreRefused(t *testing.T) {
	h := newTestHub(t)
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		r := h.do(t, "POST", "/api/log", hdr, `{"text":"x"}`)
		if r.status != 403 {
			t.Fatalf("%v: got %d, want 403", hdr, r.status)
		}
	}
	if r := h.do(t, "POST", "/api/log", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, `{"text":"x"}`); r.status != 201 {
		t.Fatalf("same-origin got %d %s", r.status, r.raw)
	}
}

func TestUserAdministration(t *testing.T) {
	h := newTestHub(t)
	h.as = "admin"
	r := h.do(t, "POST", "/api/users", nil, `{"username":"Pedro.Diaz","display_name":"Pedro Díaz","role":"operator","password":"`+testPassword+`"}`)
	if r.status != 201 || r.body["username"] != "pedro.diaz" || r.header.Get("ETag") != `"0"` {
		t.Fatalf("create: got %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	bad := []struct {
		name string
		body string
		want int
	}{
		{"taken username", `{"username":"pedro.diaz","role":"viewer","password":"` + testPassword + `"}`, 409},
		{"short password", `{"username":"juan","role":"viewer","password":"corta"}`, 422},
		{"unknown role", `{"username":"juan","role":"jefe","password":"` + testPassword + `"}`, 422},
		{"bad username", `{"username":"J","role":"viewer","password":"` + testPassword + `"}`, 422},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if r := h.do(t, "POST", "/api/users", nil, tt.body); r.status != tt.want {
				t.Fatalf("got %d, want %d: %s", r.status, tt.want, r.raw)
			}
		})
	}
	pedro := h.login(t, "pedro.diaz", testPassword)
	h.cookies["pedro"] = pedro

	if r := h.do(t, "PATCH", "/api/users/"+id, nil, `{"role":"viewer"}`); r.status != 428 {
		t.Fatalf("got %d", r.status)
	}
	if r := h.do(t, "PATCH", "/api/users/"+id, map[string]string{"If-Match": `"0"`}, `{"role":"viewer"}`); r.status != 200 || r.body["role"] != "viewer" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	// The role change ended Pedro's session: the new role applies at once.
	h.as = "pedro"
	if r := h.do(t, "GET", "/api/alerts", nil, ""); r.status != 401 {
		t.Fatalf("old session after a role change got %d, want 401", r.status)
	}
	h.as = "admin"
	if r := h.do(t, "PATCH", "/api/users/"+id, map[string]string{"If-Match": `"0"`}, `{"disabled":true}`); r.status != 412 {
		t.Fatalf("stale got %d", r.status)
	}
	if r := h.do(t, "PATCH", "/api/users/"+id, map[string]string{"If-Match": `"1"`}, `{"disabled":true,"reason":"traslado"}`); r.status != 200 || r.body["disabled"] != true {
		t.Fatalf("disable got %d %s", r.status, r.raw)
	}
	h.as = ""
	if r := h.do(t, "POST", "/api/auth/login", nil, `{"username":"pedro.diaz","password":"`+testPassword+`"}`); r.status != 401 {
		t.Fatalf("disabled user login got %d", r.status)
	}
	h.as = "admin"
	list := h.do(t, "GET", "/api/users", nil, "")
	if list.status != 200 || strings.Contains(list.raw, "argon2") {
		t.Fatalf("user list must never carry password hashes: %s", list.raw)
	}
}

func TestStreamHistory(t *testing.T) {
	h := newTestHub(t)
	h.addUser(t, "sofia", "supervisor")
	id := h.declare(t)
	h.do(t, "PATCH", "/api/alerts/"+id, map[string]string{"If-Match": `"0"`}, `{"level":"roja"}`)
	h.do(t, "PATCH", "/api/alerts/"+id, map[string]string{"If-Match": `"1"`}, `{"title":"Incendio en Quilpué y Villa Alemana"}`)

	h.as = "ana"
	if r := h.do(t, "GET", "/api/streams/alert-"+id, nil, ""); r.status != 403 {
		t.Fatalf("operator got %d, want 403", r.status)
	}
	h.as = "sofia"
	r := h.do(t, "GET", "/api/streams/alert-"+id+"?limit=2", nil, "")
	evs, _ := r.body["events"].([]any)
	if r.status != 200 || len(evs) != 2 || r.body["next"] != float64(2) {
		t.Fatalf("first page: got %d %s", r.status, r.raw)
	}
	first := evs[0].(map[string]any)
	if first["type"] != "alert.declared" || first["version"] != float64(0) || first["actor"].(map[string]any)["username"] != "ana" {
		t.Fatalf("got %v", first)
	}
	r = h.do(t, "GET", "/api/streams/alert-"+id+"?from=2", nil, "")
	if evs, _ := r.body["events"].([]any); len(evs) != 1 || r.body["next"] != nil {
		t.Fatalf("last page: got %s", r.raw)
	}
	if r := h.do(t, "GET", "/api/streams/alert-nope", nil, ""); r.status != 404 {
		t.Fatalf("missing stream: got %d", r.status)
	}
	if r := h.do(t, "GET", "/api/streams/passwords", nil, ""); r.status != 404 {
		t.Fatalf("unknown stream type: got %d", r.status)
	}
	users := h.do(t, "GET", "/api/streams/user-"+h.userID(t, "ana"), nil, "")
	if users.status != 403 {
		t.Fatalf("supervisor reading a user stream: got %d, want 403", users.status)
	}
	h.as = "admin"
	users = h.do(t, "GET", "/api/streams/user-"+h.userID(t, "ana"), nil, "")
	if users.status != 200 || strings.Contains(users.raw, "argon2") || !strings.Contains(users.raw, "[oculto]") {
		t.Fatalf("admin reading a user stream: got %d %s", users.status, users.raw)
	}
}
