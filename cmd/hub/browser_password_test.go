package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserChangePassword: issue 14, item 11. A logged-in user opens
// "Cambiar contraseña" from the top bar; a wrong current password and a
// common new one are shown by their inputs; a good change keeps this
// browser logged in, and the new password is the one that logs in.
func TestBrowserChangePassword(t *testing.T) {
	needChromium(t)
	m := startMain(t, t.TempDir())
	base := "http://" + m.Addr()
	b := newBrowser(t, "password", 1200, 800)
	b.login(base, testAdmin, testPassword)
	b.do("open the dialog", pageTimeout,
		chromedp.Click(chromedp.ID("change-password")),
		chromedp.WaitVisible(chromedp.ID("password-old-password")))

	fill := func(old, next, again string) {
		t.Helper()
		evalJS[bool](b, `(() => {
			document.getElementById('password-old-password').value = `+strconv.Quote(old)+`;
			document.getElementById('password-new-password').value = `+strconv.Quote(next)+`;
			document.getElementById('password-repeat-password').value = `+strconv.Quote(again)+`;
			return true; })()`)
	}
	const newPassword = "faro de punta angeles"

	fill("no es la clave", newPassword, newPassword)
	b.do("a wrong current password", pageTimeout,
		chromedp.Click(chromedp.ID("password-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#password-old-password[aria-invalid="true"]`)))
	if got := b.text("#password-old-password-error"); !strings.Contains(got, "no es correcta") {
		t.Errorf("old password error says %q", got)
	}

	fill(testPassword, "Password2026!", "Password2026!")
	b.do("a common new password", pageTimeout,
		chromedp.Click(chromedp.ID("password-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#password-new-password[aria-invalid="true"]`)))
	if got := b.text("#password-new-password-error"); !strings.Contains(got, "demasiado común") {
		t.Errorf("new password error says %q", got)
	}

	fill(testPassword, newPassword, newPassword+"x")
	b.do("a repeat that differs", pageTimeout,
		chromedp.Click(chromedp.ID("password-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#password-repeat-password[aria-invalid="true"]`)))

	fill(testPassword, newPassword, newPassword)
	b.do("change it", pageTimeout,
		chromedp.Click(chromedp.ID("password-submit")),
		chromedp.WaitVisible(chromedp.ID("password-done")),
		chromedp.Click(chromedp.ID("password-close")),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("user-name")))

	newClient(t, m.Addr(), testAdmin, newPassword) // fails the test if it cannot log in
	c := &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
	if code, _, err := c.call("POST", "/api/auth/login", nil, `{"username":"`+testAdmin+`","password":"`+testPassword+`"}`, nil); err != nil || code != 401 {
		t.Errorf("login with the old password: got %d %v, want 401", code, err)
	}
}
