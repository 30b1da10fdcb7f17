package web

import (
	"net/http"
	"strings"
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

// Issue 14, item 12: bytes that are not text never reach the domain as
// U+FFFD, control characters and dates no one means are field errors.
func TestTextThatIsNotTextIsRefused(t *testing.T) {
	h := newTestHub(t)
	h.as = "ana"
	tests := []struct {
		name, method, path, headers, body string
		wantStatus                        int
		wantField                         string
	}{
		{"invalid UTF-8 in the body", "POST", "/api/log", "", "{\"text\":\"Sin \xff novedad\"}", 400, ""},
		{"truncated UTF-8 sequence", "POST", "/api/log", "", "{\"text\":\"Quilpu\xc3\"}", 400, ""},
		{"lone high surrogate escape", "POST", "/api/log", "", `{"text":"Sin \ud800 novedad"}`, 400, ""},
		{"lone low surrogate escape", "POST", "/api/log", "", `{"text":"Sin \udc00 novedad"}`, 400, ""},
		{"escaped NUL", "POST", "/api/log", "", `{"text":"Sin\u0000novedad"}`, 422, "text"},
		{"escaped escape character", "POST", "/api/log", "", `{"text":"\u001b[2J"}`, 422, "text"},
		{"line break in an alert title", "POST", "/api/alerts", "", `{"hazard":"incendio_forestal","level":"amarilla","title":"Incendio\nQuilpué","comunas":["05801"]}`, 422, "title"},
		{"novedad on 0000-01-01", "POST", "/api/log", "", `{"date":"0000-01-01","text":"x"}`, 400, "date"},
		{"novedad on 9999-12-31", "POST", "/api/log", "", `{"date":"9999-12-31","text":"x"}`, 400, "date"},
		{"shift on 9999-12-31", "PUT", "/api/shifts/9999-12-31/noche", "*", `{"start":"20:00","end":"08:00","lead":"Felipe"}`, 400, "date"},
		{"shift on 0000-01-01", "PUT", "/api/shifts/0000-01-01/noche", "*", `{"start":"20:00","end":"08:00","lead":"Felipe"}`, 400, "date"},
		{"a real surrogate pair and lines pass", "POST", "/api/log", "", `{"text":"Ronda \ud83d\udd25\nsin novedad \\ud800"}`, 201, ""},
		{"accents pass", "POST", "/api/log", "", `{"text":"Quilpué: señal débil, ñandú"}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr map[string]string
			if tt.headers != "" {
				hdr = map[string]string{"If-None-Match": tt.headers}
			}
			r := h.do(t, tt.method, tt.path, hdr, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if tt.wantField != "" {
				f, _ := r.body["fields"].(map[string]any)
				if f[tt.wantField] == nil {
					t.Errorf("got %s, want a message for %s", r.raw, tt.wantField)
				}
			}
		})
	}
	t.Run("nothing refused was stored", func(t *testing.T) {
		r := h.do(t, "GET", "/api/log", nil, "")
		for _, bad := range []string{"\ufffd", "0000-", "9999-"} {
			if strings.Contains(r.raw, bad) {
				t.Errorf("log holds %q: %s", bad, r.raw)
			}
		}
	})
}

// Issue 14, item 13: a client's X-Request-Id must not become the
// correlation ID in the permanent audit trail.
func TestClientRequestIDIsNotTheCorrelationID(t *testing.T) {
	h := newTestHub(t)
	h.as = "admin"
	const forged = "00000000-0000-4000-8000-000000000001"
	r := h.do(t, "POST", "/api/log", map[string]string{"X-Request-Id": forged}, `{"text":"Ronda sin novedad"}`)
	if r.status != 201 {
		t.Fatalf("add: got %d %s", r.status, r.raw)
	}
	ours := r.header.Get("X-Request-Id")
	if ours == "" || ours == forged {
		t.Errorf("X-Request-Id: got %q, want the server's own", ours)
	}
	if got := r.header.Get("X-Client-Request-Id"); got != forged {
		t.Errorf("X-Client-Request-Id: got %q, want %q", got, forged)
	}

	stream := h.do(t, "GET", "/api/streams/log-2026-01-15", nil, "")
	events, _ := stream.body["events"].([]any)
	if stream.status != 200 || len(events) == 0 {
		t.Fatalf("stream: got %d %s", stream.status, stream.raw)
	}
	last, _ := events[len(events)-1].(map[string]any)
	if got := last["correlation_id"]; got != ours {
		t.Errorf("correlation_id: got %v, want the server's request ID %q", got, ours)
	}
	audit := h.do(t, "GET", "/api/audit", nil, "")
	if strings.Contains(stream.raw, forged) || strings.Contains(audit.raw, forged) {
		t.Errorf("the client's id reached the trail")
	}

	t.Run("an ill-formed client id is neither echoed nor kept", func(t *testing.T) {
		for _, bad := range []string{"a b", "x\"><script>", strings.Repeat("a", 65), "ñandú"} {
			r := h.do(t, "GET", "/api/auth/me", map[string]string{"X-Request-Id": bad}, "")
			if got := r.header.Get("X-Client-Request-Id"); got != "" {
				t.Errorf("%q: echoed as %q", bad, got)
			}
			if got := r.header.Get("X-Request-Id"); got == bad || len(got) != 36 {
				t.Errorf("%q: X-Request-Id %q, want a UUID of ours", bad, got)
			}
		}
	})
}

// Issue 14, item 11: weak passwords are refused, and every user can change
// their own password, giving the current one.
func TestPasswordPolicyAndOwnPasswordChange(t *testing.T) {
	h := newTestHub(t)
	h.addUser(t, "vera", "viewer")

	t.Run("weak passwords for a new user", func(t *testing.T) {
		h.as = "admin"
		for _, pw := range []string{"1234567890", "password12", "password1234", "123456789012", "Qwertyuiop123"} {
			r := h.do(t, "POST", "/api/users", nil, `{"username":"nuevo","role":"viewer","password":"`+pw+`"}`)
			f, _ := r.body["fields"].(map[string]any)
			if r.status != 422 || f["password"] == nil {
				t.Errorf("%q: got %d %s, want 422 on password", pw, r.status, r.raw)
			}
		}
		r := h.do(t, "POST", "/api/users", nil, `{"username":"nuevo","role":"viewer","password":"password1234"}`)
		if f, _ := r.body["fields"].(map[string]any); !strings.Contains(f["password"].(string), "demasiado común") {
			t.Errorf("got %s, want contraseña demasiado común", r.raw)
		}
	})

	const newPassword = "faro de punta angeles"
	tests := []struct {
		name, as, body string
		headers        map[string]string
		wantStatus     int
		wantField      string
	}{
		{"anonymous", "", `{"old_password":"` + testPassword + `","new_password":"` + newPassword + `"}`, nil, 401, ""},
		{"wrong current password", "vera", `{"old_password":"no es la clave","new_password":"` + newPassword + `"}`, nil, 422, "old_password"},
		{"missing current password", "vera", `{"new_password":"` + newPassword + `"}`, nil, 422, "old_password"},
		{"too short", "vera", `{"old_password":"` + testPassword + `","new_password":"corta"}`, nil, 422, "new_password"},
		{"too common", "vera", `{"old_password":"` + testPassword + `","new_password":"Password2026!"}`, nil, 422, "new_password"},
		{"the same again", "vera", `{"old_password":"` + testPassword + `","new_password":"` + testPassword + `"}`, nil, 422, "new_password"},
		{"unknown field", "vera", `{"old_password":"x","password":"y"}`, nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.as = tt.as
			r := h.do(t, "POST", "/api/auth/password", tt.headers, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if tt.wantField != "" {
				if f, _ := r.body["fields"].(map[string]any); f[tt.wantField] == nil {
					t.Errorf("got %s, want a message for %s", r.raw, tt.wantField)
				}
			}
		})
	}

	t.Run("a token cannot change its creator's password", func(t *testing.T) {
		h.as = "admin"
		tok := h.do(t, "POST", "/api/tokens", nil, `{"name":"script","role":"viewer","expires_in":"1h"}`)
		if tok.status != 201 {
			t.Fatalf("token: got %d %s", tok.status, tok.raw)
		}
		h.as = ""
		r := h.do(t, "POST", "/api/auth/password", map[string]string{"Authorization": "Bearer " + tok.body["token"].(string)},
			`{"old_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
		if r.status != 403 {
			t.Errorf("got %d, want 403: %s", r.status, r.raw)
		}
	})

	t.Run("a viewer changes their own password", func(t *testing.T) {
		h.as = "vera"
		old := h.cookies["vera"]
		other := h.login(t, "vera", testPassword) // another browser, perhaps not theirs
		r := h.do(t, "POST", "/api/auth/password", nil, `{"old_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
		if r.status != 204 {
			t.Fatalf("got %d, want 204: %s", r.status, r.raw)
		}
		var fresh string
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == SessionCookie {
				fresh = c.Value
			}
		}
		if fresh == "" || fresh == old {
			t.Fatalf("want a fresh session cookie, got %q", fresh)
		}
		for name, cookie := range map[string]string{"the old session": old, "the other browser": other} {
			h.cookies["vera"] = cookie
			if r := h.do(t, "GET", "/api/auth/me", nil, ""); r.status != 401 {
				t.Errorf("%s: got %d, want 401", name, r.status)
			}
		}
		h.cookies["vera"] = fresh
		if r := h.do(t, "GET", "/api/auth/me", nil, ""); r.status != 200 {
			t.Errorf("the fresh session: got %d, want 200", r.status)
		}
		h.login(t, "vera", newPassword)
		req := h.do(t, "POST", "/api/auth/login", nil, `{"username":"vera","password":"`+testPassword+`"}`)
		if req.status != 401 {
			t.Errorf("login with the old password: got %d, want 401", req.status)
		}
		h.as = "admin"
		audit := h.do(t, "GET", "/api/audit", nil, "")
		if audit.status != 200 || strings.Contains(audit.raw, newPassword) {
			t.Error("the new password reached the audit")
		}
	})
}
