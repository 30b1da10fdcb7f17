package ingest

import (
	"errors"
	"io"
	"strings"
	"testing"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestLimitedPart: whatever a header says, reading a part stops past
// MaxPartSize, and all parts together past MaxInflated.
func TestLimitedPart(t *testing.T) {
	p := &pkg{}
	lp := &limitedPart{rc: io.NopCloser(zeros{}), lr: io.LimitReader(zeros{}, MaxPartSize+1), p: p, name: "word/document.xml"}
	n, err := io.Copy(io.Discard, lp)
	if !errors.Is(err, errInflated) || n > MaxPartSize+1 {
		t.Fatalf("read %d bytes, err %v; want errInflated by %d", n, err, MaxPartSize+1)
	}
	if e := p.classify("word/document.xml", err); !errors.Is(e, ErrZipBomb) {
		t.Errorf("classified as %v, want ErrZipBomb", e)
	}

	p = &pkg{inflated: MaxInflated - 10}
	lp = &limitedPart{rc: io.NopCloser(zeros{}), lr: io.LimitReader(zeros{}, MaxPartSize+1), p: p}
	if n, err := io.Copy(io.Discard, lp); !errors.Is(err, errInflated) || n > 64<<10 {
		t.Errorf("total budget: err %v, want errInflated", err)
	}
}

// TestCellBudget: rows padded to a wide first row would turn a few MiB of
// XML into gigabytes of cells; past maxCells the document is refused.
func TestCellBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:tbl>`)
	b.WriteString(`<w:tr><w:tc><w:tcPr><w:gridSpan w:val="64"/></w:tcPr></w:tc></w:tr>`)
	for i := 0; i < maxCells/64+1; i++ {
		b.WriteString(`<w:tr><w:tc/></w:tr>`)
	}
	b.WriteString(`</w:tbl></w:body></w:document>`)
	_, err := readBody(strings.NewReader(b.String()), nil)
	if !errors.Is(err, errTooBig) {
		t.Fatalf("err %v, want errTooBig", err)
	}
	if e := (&pkg{}).classify(documentPart, err); !errors.Is(e, ErrZipBomb) {
		t.Errorf("classified as %v, want ErrZipBomb", e)
	}
}
