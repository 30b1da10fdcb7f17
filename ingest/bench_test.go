package ingest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

// BenchmarkParseInforme reads and parses the PM sample (ReadDocx +
// ParseInforme, what an upload costs).
func BenchmarkParseInforme(b *testing.B) {
	name := "Informe Situación Regional PM 11 06 25.docx"
	data, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		b.Skipf("SKIPPING: sample informe missing: %v", err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := ingest.ReadDocx(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ingest.ParseInforme(doc, name); err != nil {
			b.Fatal(err)
		}
	}
}
