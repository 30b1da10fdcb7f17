// Package archtest holds the test that keeps the dependency direction of
// STYLE.md true: cmd/hub → web → {command, projections, auth, ingest,
// realtime} → {domain, eventstore}.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/senapred-valparaiso/vigia/"

// forbidden maps a package path prefix (ours, without the module) to the
// prefixes of ours it must never depend on, directly or not.
var forbidden = map[string][]string{
	"domain":      {""}, // nothing of ours at all
	"notice":      {""}, // shared by projections and realtime, so it imports neither
	"eventstore":  {"domain", "projections", "realtime", "web", "command", "auth", "cmd"},
	"realtime":    {"domain", "eventstore", "projections", "web", "command", "auth", "cmd"},
	"auth":        {"domain", "eventstore", "projections", "realtime", "web", "command", "ingest", "cmd"},
	"command":     {"projections", "realtime", "web", "auth", "cmd"},
	"projections": {"realtime", "web", "command", "auth", "cmd"},
	"report":      {"realtime", "web", "command", "auth", "cmd"},
	"web":         {"cmd"},
	"ingest":      {"eventstore", "projections", "realtime", "web", "command", "auth", "jobs", "intake", "cmd"},
	"jobs":        {""}, // the engine knows nothing of what its jobs do
	"intake":      {"realtime", "web", "auth", "cmd"},

	"internal/netlimit": {""}, // the listener knows nothing of the hub
}

// siblings: an adapter imports only its port, never another adapter.
var siblings = []string{"eventstore/", "realtime/", "projections/", "auth/"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func TestDependencyDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-json", module+"...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages; the test is not looking at the module", len(pkgs))
	}
	checked := 0
	for _, p := range pkgs {
		self := strings.TrimPrefix(p.ImportPath, module)
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module) {
				continue
			}
			dep := strings.TrimPrefix(d, module)
			checked++
			for root, bans := range forbidden {
				if !under(self, root) || under(dep, root) {
					continue
				}
				for _, ban := range bans {
					if ban == "" || under(dep, ban) {
						t.Errorf("%s must not depend on %s", self, dep)
					}
				}
			}
			if under(dep, "web") && !under(self, "web") && !under(self, "cmd") {
				t.Errorf("only cmd/hub may depend on web; %s depends on %s", self, dep)
			}
			for _, port := range siblings {
				if strings.HasPrefix(self, port) && strings.HasPrefix(dep, port) && adapter(self, port) != adapter(dep, port) &&
					!strings.HasSuffix(dep, "test") && adapter(dep, port) != "" && !isTestHelper(dep) {
					t.Errorf("adapter %s must not depend on sibling adapter %s", self, dep)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no internal dependency was checked")
	}
}

func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

func adapter(path, port string) string {
	rest := strings.TrimPrefix(path, port)
	a, _, _ := strings.Cut(rest, "/")
	return a
}

func isTestHelper(dep string) bool { return strings.Contains(dep, "internal/testkit/") }

// transportFree are the packages of ours that must not depend on an HTTP
// or WebSocket transport, directly or not: a port package and its adapters
// stand alone (STYLE.md), so the Redis broker does not pull in the HTTP
// server. The WebSocket transport of live updates is realtime/ws.
var transportFree = []string{"realtime", "realtime/memory", "realtime/redis", "realtime/brokertest"}

// transports are the module path prefixes of the transports they must not
// depend on: Fiber and the fasthttp stack under it.
var transports = []string{"github.com/gofiber/", "github.com/valyala/fasthttp", "github.com/fasthttp/"}

func TestPortsImportNoTransport(t *testing.T) {
	args := []string{"list", "-e", "-json"}
	for _, p := range transportFree {
		args = append(args, module+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		for _, d := range p.Deps {
			for _, tr := range transports {
				if strings.HasPrefix(d, tr) {
					t.Errorf("%s must not depend on the transport %s", p.ImportPath, d)
				}
			}
		}
	}
	if seen != len(transportFree) {
		t.Fatalf("go list described %d of the %d packages %v", seen, len(transportFree), transportFree)
	}
}

// domainMayImport are the only modules outside the standard library that
// domain may depend on: golang.org/x/text, for the accent-insensitive
// matching of place names (reference data). Anything else is I/O, a driver
// or a framework, none of which belongs in the domain.
var domainMayImport = []string{"golang.org/x/text/"}

func TestDomainImportsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", module+"domain").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var p pkg
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Deps) == 0 {
		t.Fatal("go list gave domain no dependencies; the test is not looking at it")
	}
	for _, d := range p.Deps {
		first, _, _ := strings.Cut(d, "/")
		if !strings.Contains(first, ".") {
			continue // the standard library
		}
		allowed := false
		for _, a := range domainMayImport {
			allowed = allowed || strings.HasPrefix(d, a)
		}
		if !allowed {
			t.Errorf("domain must import only the standard library and %v; it depends on %s", domainMayImport, d)
		}
	}
}

// Test helpers (internal/testkit) are for tests only: no package of the
// build depends on them (go list's Deps do not include test imports).
func TestNoBuildDependsOnTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 8 {
		t.Fatalf("go list found only %d packages", len(lines))
	}
	for _, line := range lines {
		self, deps, _ := strings.Cut(line, " ")
		if under(strings.TrimPrefix(self, module), "internal/testkit") {
			continue
		}
		for _, d := range strings.Fields(deps) {
			if under(strings.TrimPrefix(d, module), "internal/testkit") {
				t.Errorf("%s is built into the product but depends on the test helper %s", self, d)
			}
		}
	}
}

// testsToo are the packages whose tests must keep the direction as well:
// go list's Deps leave test imports out, so these are listed again with
// -test (auth: users are event-sourced in domain, web depends on auth and
// never the reverse; ingest: it reads documents for its callers only).
var testsToo = []string{"auth/...", "ingest"}

func TestTestsKeepTheDirection(t *testing.T) {
	for _, pattern := range testsToo {
		root := strings.TrimSuffix(pattern, "/...")
		out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", module+pattern).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pattern, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go list gave %s no dependencies", pattern)
		}
		for _, d := range deps {
			dep := strings.TrimPrefix(d, module)
			if dep == d || under(dep, root) {
				continue
			}
			for _, ban := range forbidden[root] {
				if ban == "" || under(dep, ban) {
					t.Errorf("%s (tests included) must not depend on %s", pattern, dep)
				}
			}
		}
	}
}
