package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"
)

func TestLoopbackTarget(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080/", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://10.0.0.7:8080", false},
		{"http://192.168.1.10", false},
		{"http://[2001:db8::1]:8080", false},
		{"http://0.0.0.0:8080", false},
		{"https://127.0.0.1:8443", false},
		{"http://127.0.0.1:8080/api", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			u, err := loopbackTarget(context.Background(), tt.target)
			if (err == nil) != tt.ok {
				t.Fatalf("got %v %v, want ok=%v", u, err, tt.ok)
			}
		})
	}
}

func TestAlertKey(t *testing.T) {
	tests := []struct {
		msg    string
		key    string
		wantOK bool
	}{
		{`{"type":"alert.updated","position":"7","data":{"id":"a1","title":"x","version":12,"level":"roja"}}`, "a1:12", true},
		{`{"type":"hello","data":{}}`, "", false},
		{`{"type":"alert.updated","data":{"id":"a1","version":"x"}}`, "", false},
	}
	for _, tt := range tests {
		key, ok := alertKey([]byte(tt.msg))
		if key != tt.key || ok != tt.wantOK {
			t.Errorf("alertKey(%s): got %q %v, want %q %v", tt.msg, key, ok, tt.key, tt.wantOK)
		}
	}
}

// TestInformeVariant: the default sample is found from this package's
// directory (the repository root's ../shared), and variants are valid
// zips, each with other bytes.
func TestInformeVariant(t *testing.T) {
	doc, err := readInforme(defaultInforme)
	if err != nil {
		t.Skipf("SKIPPING: %v", err)
	}
	seen := map[string]bool{}
	for i := range 3 {
		v, err := informeVariant(doc, "run", i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zip.NewReader(bytes.NewReader(v), int64(len(v))); err != nil {
			t.Fatalf("variant %d is not a zip: %v", i, err)
		}
		seen[string(v)] = true
	}
	if len(seen) != 3 {
		t.Fatalf("%d distinct variants of 3", len(seen))
	}
	if _, err := informeVariant([]byte("no es un zip"), "run", 0); err == nil {
		t.Fatal("a non-zip made a variant")
	}
}
