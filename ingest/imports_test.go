package ingest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports fails if ingest (tests included) depends on a package it
// must not: it parses informes for its callers (web, jobs) and may read
// domain's reference data, nothing else of ours.
func TestImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-test", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/senapred-valparaiso/vigia/"
	forbidden := []string{"web", "command", "projections", "realtime", "eventstore", "auth", "report", "cmd"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == mod+f || strings.HasPrefix(dep, mod+f+"/") {
				t.Errorf("ingest depends on %s", dep)
			}
		}
	}
}
