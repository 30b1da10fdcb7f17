package web

import (
	"testing"
)

// withConfig returns a copy of h whose server is built from h's config
// changed by edit.
func (h *testHub) withConfig(edit func(*Config)) *testHub {
	cfg := h.Server.cfg
	edit(&cfg)
	h2 := *h
	h2.Server = New(cfg)
	return &h2
}

// Issue 14, item 10: API answers carry personal data and must be neither
// cached nor sniffed; HSTS is sent only behind HTTPS.
func TestAPIAnswersAreNotStoredNorSniffed(t *testing.T) {
	h := newTestHub(t)
	id := h.declare(t)
	tests := []struct {
		name, as, method, path, body string
		wantStatus                   int
	}{
		{"alert list", "ana", "GET", "/api/alerts", "", 200},
		{"one alert", "ana", "GET", "/api/alerts/" + id, "", 200},
		{"who am I", "ana", "GET", "/api/auth/me", "", 200},
		{"users", "admin", "GET", "/api/users", "", 200},
		{"audit", "admin", "GET", "/api/audit", "", 200},
		{"audit CSV", "admin", "GET", "/api/audit?format=csv", "", 200},
		{"a write", "ana", "POST", "/api/log", `{"text":"Ronda sin novedad"}`, 201},
		{"anonymous", "", "GET", "/api/users", "", 401},
		{"forbidden", "ana", "GET", "/api/users", "", 403},
		{"unknown API route", "ana", "GET", "/api/nada", "", 404},
		{"failed login", "", "POST", "/api/auth/login", `{"username":"ana","password":"otra clave larga"}`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.as = tt.as
			r := h.do(t, tt.method, tt.path, nil, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
			}
			if got := r.header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS without HTTPS: got %q", got)
			}
		})
	}

	t.Run("no-store keeps the conditional GET of the alert list", func(t *testing.T) {
		h.as = "ana"
		first := h.do(t, "GET", "/api/alerts", nil, "")
		again := h.do(t, "GET", "/api/alerts", map[string]string{"If-None-Match": first.header.Get("ETag")}, "")
		if again.status != 304 {
			t.Errorf("got %d, want 304", again.status)
		}
	})

	t.Run("HSTS behind HTTPS", func(t *testing.T) {
		secure := h.withConfig(func(c *Config) { c.SecureCookies = true })
		secure.as = "ana"
		for _, path := range []string{"/api/alerts", "/", "/healthz"} {
			if got := secure.do(t, "GET", path, nil, "").header.Get("Strict-Transport-Security"); got != hstsValue {
				t.Errorf("%s: got %q, want %q", path, got, hstsValue)
			}
		}
	})
}
