package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// Issue 14 item 7: behind nginx every client had nginx's address. The
// client is the right-most X-Forwarded-For entry that is not a trusted
// proxy, and only when the peer is trusted. app.Test's peer is 0.0.0.0.
func TestClientAddr(t *testing.T) {
	cases := []struct {
		name, trusted string
		xff           []string
		want          string
	}{
		{"no proxies trusted: a spoofed header is ignored", "", []string{"203.0.113.7"}, "0.0.0.0"},
		{"untrusted peer: a spoofed header is ignored", "10.0.0.0/8", []string{"203.0.113.7"}, "0.0.0.0"},
		{"trusted peer without the header", "0.0.0.0/32", nil, "0.0.0.0"},
		{"trusted peer: the entry it appended", "0.0.0.0", []string{"203.0.113.7"}, "203.0.113.7"},
		{"a client's own entries on the left are not believed", "0.0.0.0/32", []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7"},
		{"a chain of trusted proxies is walked", "0.0.0.0/32, 10.0.0.0/8", []string{"6.6.6.6, 203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"several headers are one list", "0.0.0.0/32,10.0.0.0/8", []string{"6.6.6.6", "203.0.113.7", "10.0.0.2"}, "203.0.113.7"},
		{"only proxies: the left-most", "0.0.0.0/32,10.0.0.0/8", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage stops at the proxy that wrote it", "0.0.0.0/32,10.0.0.0/8", []string{"203.0.113.7, nonsense, 10.0.0.2"}, "10.0.0.2"},
		{"IPv6", "0.0.0.0/32", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			trusted, err := ParseTrustedProxies(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(clientAddr(c, trusted)) })
			req := httptest.NewRequest("GET", "/", nil)
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := string(body); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxiesRefusesGarbage(t *testing.T) {
	for _, in := range []string{"nginx", "10.0.0.0/33", "10.0.0.1/8/2"} {
		if _, err := ParseTrustedProxies(in); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

// loginFrom posts a login through a proxy that says the client is xff.
func (h *testHub) loginFrom(t *testing.T, username, password, xff string) int {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(`{"username":"`+username+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := h.App().Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Issue 14 item 7: five bad guesses by anyone locked admin for everyone.
func TestGuesserBehindProxyDoesNotLockAdminOut(t *testing.T) {
	t.Run("trusted proxy: only the guesser's address is locked", func(t *testing.T) {
		h := newTestHub(t)
		h.cfg.TrustedProxies, _ = ParseTrustedProxies("0.0.0.0/32")
		for i := range 5 {
			if got := h.loginFrom(t, "admin", "no es la clave", "198.51.100.66"); got != 401 {
				t.Fatalf("guess %d: got %d, want 401", i, got)
			}
		}
		if got := h.loginFrom(t, "admin", testPassword, "198.51.100.66"); got != 429 {
			t.Fatalf("the guesser, even with the password: got %d, want 429", got)
		}
		if got := h.loginFrom(t, "admin", testPassword, "203.0.113.5"); got != 200 {
			t.Fatalf("admin at another address: got %d, want 200", got)
		}
	})
	t.Run("untrusted peer: a spoofed address changes nothing", func(t *testing.T) {
		h := newTestHub(t)
		for i := range 5 {
			if got := h.loginFrom(t, "admin", "no es la clave", "198.51.100."+string(rune('1'+i))); got != 401 {
				t.Fatalf("guess %d: got %d, want 401", i, got)
			}
		}
		if got := h.loginFrom(t, "admin", "no es la clave", "198.51.100.99"); got != 429 {
			t.Fatalf("a sixth guess from a new spoofed address: got %d, want 429", got)
		}
	})
}
