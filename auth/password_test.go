package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/auth"
)

func TestValidatePassword(t *testing.T) {
	cases := []struct {
		name string
		pw   string
		want error
	}{
		{"ok", "marejadas-2026", nil},
		{"exactly twelve", "marea-de-sal", nil},
		{"twelve multibyte characters", "ñáéíóúüçøåxz", nil},
		{"empty", "", auth.ErrPasswordTooShort},
		{"eleven", "marea-de-so", auth.ErrPasswordTooShort},
		{"ten, once enough", "abcdefghij", auth.ErrPasswordTooShort},
		{"eleven multibyte characters are 22 bytes but too short", "ñññññññññña", auth.ErrPasswordTooShort},
		// Issue 14, item 11: these were accepted.
		{"1234567890", "1234567890", auth.ErrPasswordTooShort},
		{"password12", "password12", auth.ErrPasswordTooShort},
		{"a common password padded to twelve", "password1234", auth.ErrPasswordCommon},
		{"a digit sequence of twelve", "123456789012", auth.ErrPasswordCommon},
		{"a keyboard walk", "1qaz2wsx3edc", auth.ErrPasswordCommon},
		{"common in another case", "QWERTYUIOPAS", auth.ErrPasswordCommon},
		{"a common word with a year and a symbol", "Dragon2024!!", auth.ErrPasswordCommon},
		{"padded before and after", "!!Superman2026", auth.ErrPasswordCommon},
		{"Spanish", "Contraseña2026", auth.ErrPasswordCommon},
		{"the system's own name", "Senapred2026!", auth.ErrPasswordCommon},
		{"a long common one as it is", "LeaveMeAlone", auth.ErrPasswordCommon},
		{"common words inside a longer phrase pass", "dragon y superman en la playa", nil},
		{"max", strings.Repeat("ab", auth.MaxPasswordLen/2), nil},
		{"too long", strings.Repeat("ab", auth.MaxPasswordLen/2) + "c", auth.ErrPasswordTooLong},
		{"one character repeated", "aaaaaaaaaaaa", auth.ErrPasswordRepetitive},
		{"one multibyte character repeated", strings.Repeat("ñ", 12), auth.ErrPasswordRepetitive},
		{"spaces only", strings.Repeat(" ", 12), auth.ErrPasswordRepetitive},
		{"invalid utf-8", "abcdefghijkl\xff", auth.ErrPasswordEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := auth.ValidatePassword(tc.pw); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The demo users', the Makefile's and the tests' passwords must pass the
// policy, or the demo and the tests would fail at their first user.
func TestKnownPasswordsPassThePolicy(t *testing.T) {
	for _, pw := range []string{
		"vigia-admin-demo", "operador-demo", "supervisor-demo", "visor-demo-2026", // Makefile, cmd/hub/demo.go
		"una clave larga", "clave de prueba larga", "una clave larga de prueba", "una clave de operadora",
		"una clave larga para medir", "otra clave larga", "marejadas-2026", "correct horse battery",
	} {
		if err := auth.ValidatePassword(pw); err != nil {
			t.Errorf("%q: %v", pw, err)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	h, err := auth.TestParams.Hash("correct horse battery")
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q: want PHC argon2id with TestParams", h)
	}
	cases := []struct {
		pw   string
		want bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"correct horse battery ", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.pw, func(t *testing.T) {
			got, err := auth.VerifyPassword(h, tc.pw)
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v, nil", got, err, tc.want)
			}
		})
	}
}

func TestHashesAreSalted(t *testing.T) {
	a, _ := auth.TestParams.Hash("same password")
	b, _ := auth.TestParams.Hash("same password")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestDefaultParamsRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("costs one real hash")
	}
	h, err := auth.HashPassword("marejadas-2026")
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("hash %q: want DefaultParams", h)
	}
	if ok, err := auth.VerifyPassword(h, "marejadas-2026"); !ok || err != nil {
		t.Errorf("verify: got %v, %v", ok, err)
	}
	if auth.NeedsRehash(h) {
		t.Error("fresh default hash needs rehash")
	}
}

func TestNeedsRehash(t *testing.T) {
	cheap, _ := auth.TestParams.Hash("x")
	for _, h := range []string{cheap, "", "$argon2i$v=19$m=65536,t=2,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if !auth.NeedsRehash(h) {
			t.Errorf("%q: want needs rehash", h)
		}
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"                 // 16 bytes
	const key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 29 bytes
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, err := auth.ParseHash(valid); err != nil {
		t.Fatalf("control hash: %v", err)
	}
	cases := map[string]string{
		"empty":             "",
		"plain text":        "hunter2",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           strings.Replace(valid, "argon2id", "argon2i", 1),
		"version 16":        strings.Replace(valid, "v=19", "v=16", 1),
		"no version":        "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"params reordered":  strings.Replace(valid, "m=64,t=1,p=1", "t=1,m=64,p=1", 1),
		"zero iterations":   strings.Replace(valid, "t=1", "t=0", 1),
		"zero parallelism":  strings.Replace(valid, "p=1", "p=0", 1),
		"tiny memory":       strings.Replace(valid, "m=64", "m=4", 1),
		"huge memory":       strings.Replace(valid, "m=64", "m=4294967295", 1),
		"memory overflow":   strings.Replace(valid, "m=64", "m=4294967296", 1),
		"leading zero":      strings.Replace(valid, "m=64", "m=064", 1),
		"plus sign":         strings.Replace(valid, "m=64", "m=+64", 1),
		"padded salt":       strings.Replace(valid, salt, salt+"==", 1),
		"url base64":        strings.Replace(valid, salt, "c2FsdHNhbHRzYWx0c2FsdA-_", 1),
		"newline in key":    strings.Replace(valid, key, key[:8]+"\n"+key[8:], 1),
		"short salt":        strings.Replace(valid, salt, "c2FsdA", 1),
		"short key":         strings.Replace(valid, key, "a2V5", 1),
		"empty key":         strings.TrimSuffix(valid, key),
		"trailing field":    valid + "$x",
		"missing leading $": valid[1:],
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(h, "password")
			if ok || !errors.Is(err, auth.ErrMalformedHash) {
				t.Errorf("got %v, %v; want false, ErrMalformedHash", ok, err)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	for name, p := range map[string]auth.Params{
		"zero":           {},
		"no salt":        {Memory: 64, Iterations: 1, Parallelism: 1, KeyLength: 32},
		"memory for p=4": {Memory: 16, Iterations: 1, Parallelism: 4, SaltLength: 16, KeyLength: 32},
	} {
		if _, err := p.Hash("x"); !errors.Is(err, auth.ErrMalformedHash) {
			t.Errorf("%s: got %v, want ErrMalformedHash", name, err)
		}
	}
	for name, p := range map[string]auth.Params{"default": auth.DefaultParams, "test": auth.TestParams} {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParseHash checks that the PHC parser never panics, that anything it
// accepts is canonical (re-encodes to the same string) and stays within the
// parameter bounds, so Verify on it is safe.
func FuzzParseHash(f *testing.F) {
	good, _ := auth.TestParams.Hash("seed")
	for _, s := range []string{
		good,
		"$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=,t=,p=$$",
		"$argon2i$v=19$m=65536,t=2,p=2$c2FsdA$a2V5",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAA$AAAA",
		"$$$$$",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := auth.ParseHash(s)
		if err != nil {
			if !errors.Is(err, auth.ErrMalformedHash) {
				t.Fatalf("error %v does not match ErrMalformedHash", err)
			}
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("not canonical: parsed %q, re-encoded %q", s, got)
		}
		if err := h.Params.Validate(); err != nil {
			t.Fatalf("accepted out-of-bounds params %+v: %v", h.Params, err)
		}
		if h.Params.Memory <= 1024 && h.Params.Iterations <= 2 {
			h.Verify("password") // must not panic
		}
	})
}

// BenchmarkHashPassword measures one login's worth of argon2id with
// DefaultParams; its ns/op is the figure DefaultParams' doc cites.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := auth.HashPassword("marejadas-2026"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPassword is the cost of a login attempt.
func BenchmarkVerifyPassword(b *testing.B) {
	h, err := auth.HashPassword("marejadas-2026")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := auth.VerifyPassword(h, "marejadas-2026"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
