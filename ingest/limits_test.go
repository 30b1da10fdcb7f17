package ingest

import (
	"errors"
	"io"
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
