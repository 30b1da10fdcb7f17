package auth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports fails if auth or any of its subpackages (tests included)
// depends on a package it must not: users are event-sourced in domain, and
// the web layer depends on auth, never the reverse.
func TestImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/senapred-valparaiso/vigia/"
	forbidden := []string{"domain", "eventstore", "projections", "realtime", "web", "command", "ingest", "cmd"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == mod+f || strings.HasPrefix(dep, mod+f+"/") {
				t.Errorf("auth depends on %s", dep)
			}
		}
	}
}
