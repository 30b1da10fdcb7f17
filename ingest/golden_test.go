package ingest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

// samplesDir holds the reference informes, outside the repository (the
// worktree's ../shared/data/informes, seen from the package directory).
const samplesDir = "../../shared/data/informes"

// samples returns the sample .docx paths, skipping loudly when the folder
// is missing (a checkout without the shared data).
func samples(tb testing.TB) []string {
	tb.Helper()
	docs, err := filepath.Glob(filepath.Join(samplesDir, "*.docx"))
	if err != nil || len(docs) == 0 {
		tb.Skipf("SKIPPING: no sample informes in %s (%v): the golden tests did not run", samplesDir, err)
	}
	return docs
}

func TestGolden(t *testing.T) {
	for _, path := range samples(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			inf, err := ingest.Parse(data, name)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := toAny(t, inf.Content)
			wantJSON, err := os.ReadFile(strings.TrimSuffix(path, ".docx") + ".expected.json")
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(wantJSON, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("content differs from %s.expected.json:\n%s", strings.TrimSuffix(name, ".docx"), strings.Join(diff("", got, want), "\n"))
			}
			m := want.(map[string]any)
			wantTime, _ := m["time"].(string) // null: no time
			if inf.Date != m["date"] || inf.Edition != m["edition"] || inf.Time != wantTime {
				t.Errorf("header = %s %s %s, want %v %v %v", inf.Date, inf.Time, inf.Edition, m["date"], m["time"], m["edition"])
			}
			if len(inf.Warnings) > 0 {
				t.Errorf("warnings on a complete sample: %q", inf.Warnings)
			}
		})
	}
}

// toAny round-trips v through JSON, so it compares like the file does.
func toAny(tb testing.TB, v any) any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// diff lists the paths where got and want differ, one line each.
func diff(path string, got, want any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var out []string
		for _, k := range sortedKeys(keys) {
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				out = append(out, path+"."+k+": missing, want "+show(wv))
			case !wok:
				out = append(out, path+"."+k+": unexpected "+show(gv))
			default:
				out = append(out, diff(path+"."+k, gv, wv)...)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		var out []string
		for i := 0; i < max(len(g), len(w)); i++ {
			p := path + "[" + itoa(i) + "]"
			switch {
			case i >= len(g):
				out = append(out, p+": missing, want "+show(w[i]))
			case i >= len(w):
				out = append(out, p+": unexpected "+show(g[i]))
			default:
				out = append(out, diff(p, g[i], w[i])...)
			}
		}
		return out
	}
	if reflect.DeepEqual(got, want) {
		return nil
	}
	return []string{path + ": got " + show(got) + ", want " + show(want)}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
