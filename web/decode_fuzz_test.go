package web

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoneSurrogate checks decodeBody's surrogate scan against
// encoding/json itself: on valid JSON that is valid UTF-8, the scan finds a
// lone surrogate escape exactly when decoding would produce a U+FFFD the
// body did not contain.
func FuzzLoneSurrogate(f *testing.F) {
	for _, seed := range []string{
		`{"text":"Sin novedad"}`,
		`{"text":"\ud800"}`,
		`{"text":"\udc00"}`,
		`{"text":"\ud83d\udd25"}`,
		`{"text":"\ud83d\u0041"}`,
		`{"text":"\\ud800"}`,
		`{"\ud800":1}`,
		`["\ud800\ud800\udc00"]`,
		`{"a":"\"\ud800"}`,
		`{"text":"\uD83D\uDE00 \u00f1"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !utf8.Valid(body) {
			return
		}
		lower := strings.ToLower(string(body))
		if strings.Contains(lower, `\ufffd`) || strings.ContainsRune(lower, utf8.RuneError) {
			return // the body itself says U+FFFD
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("valid JSON did not decode: %v", err)
		}
		out, _ := json.Marshal(v) // U+FFFD is written as itself
		replaced := strings.ContainsRune(string(out), utf8.RuneError)
		if found := loneSurrogate(body) >= 0; found != replaced {
			t.Fatalf("%q: scan found a lone surrogate %v, decoder replaced one %v", body, found, replaced)
		}
	})
}
