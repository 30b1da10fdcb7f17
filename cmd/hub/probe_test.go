package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestProbeAnswersOnlyWhenAsked(t *testing.T) {
	var out bytes.Buffer
	startProbe(func(string) string { return "" }, strings.NewReader("gc\n"), &out)()
	if out.Len() != 0 {
		t.Fatalf("without HUB_PROBE: got %q, want nothing", out.String())
	}
}

func TestProbe(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	in, w := io.Pipe()
	outR, out := io.Pipe()
	answers := bufio.NewReader(outR)
	stop := startProbe(func(k string) string {
		if k == "HUB_PROBE" {
			return "stdin"
		}
		return ""
	}, in, out)
	defer stop()
	ask := func(q string) string {
		t.Helper()
		go func() { _, _ = io.WriteString(w, q+"\n") }()
		line, err := answers.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(line, "\n")
	}
	if got := ask("gc"); !regexp.MustCompile(`^probe gc [1-9][0-9]* [1-9][0-9]*$`).MatchString(got) {
		t.Errorf("gc: got %q, want probe gc <bytes> <goroutines>", got)
	}
	if got := ask("cpu-start " + prof); got != "probe ok" {
		t.Errorf("cpu-start: got %q, want probe ok", got)
	}
	if got := ask("cpu-start " + prof); !strings.HasPrefix(got, "probe error") {
		t.Errorf("a second cpu-start: got %q, want an error", got)
	}
	if got := ask("cpu-stop"); got != "probe ok" {
		t.Errorf("cpu-stop: got %q, want probe ok", got)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("profile: %v, %v; want a non-empty file", st, err)
	}
	if got := ask("frob"); !strings.HasPrefix(got, "probe error") {
		t.Errorf("frob: got %q, want an error", got)
	}
	w.Close()
}
