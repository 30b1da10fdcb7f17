package memory

import (
	"context"
	"sort"

	"github.com/senapred-valparaiso/vigia/projections"
)

// Audit returns the audit records q selects, in q's order. The index is
// the records in position order, so a cursor is a binary search and a page
// is a scan from it that stops at the limit. Only the records of the page
// are explained (summary and diff), and outside the lock: their sources
// hold nothing that changes.
func (m *ReadModel) Audit(_ context.Context, q projections.AuditQuery) ([]projections.AuditRecord, error) {
	q = q.Normalize()
	page := m.auditPage(q)
	out := make([]projections.AuditRecord, len(page))
	for i := range page {
		out[i] = page[i].Explain()
	}
	return out, nil
}

// auditPage returns the sources of the records q selects, in q's order.
func (m *ReadModel) auditPage(q projections.AuditQuery) []projections.AuditSource {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a := &m.audit
	// Keep what lies strictly between the cursors: [lo, hi).
	lo, hi := 0, a.len()
	if !q.After.IsZero() {
		lo = sort.Search(hi, func(i int) bool { return a.at(i).Record.Position.Compare(q.After) > 0 })
	}
	if !q.Before.IsZero() {
		hi = lo + sort.Search(hi-lo, func(i int) bool { return a.at(lo+i).Record.Position.Compare(q.Before) >= 0 })
	}
	var out []projections.AuditSource
	for k := range hi - lo {
		i := lo + k
		if q.Newest {
			i = hi - 1 - k
		}
		if src := a.at(i); q.Matches(&src.Record) {
			out = append(out, *src)
			if len(out) == q.Limit {
				break
			}
		}
	}
	return out
}

// auditChunk is how many sources one block of the audit index holds.
const auditChunk = 4096

// auditIndex is the audit sources in position order, in blocks of
// auditChunk: appending never copies what is there (a replay of a long
// log would otherwise copy the whole index each time it doubled).
type auditIndex struct {
	blocks [][]projections.AuditSource
	n      int
}

func (a *auditIndex) add(src projections.AuditSource) {
	if a.n%auditChunk == 0 {
		a.blocks = append(a.blocks, make([]projections.AuditSource, 0, auditChunk))
	}
	b := &a.blocks[len(a.blocks)-1]
	*b = append(*b, src)
	a.n++
}

func (a *auditIndex) len() int { return a.n }

func (a *auditIndex) at(i int) *projections.AuditSource {
	return &a.blocks[i/auditChunk][i%auditChunk]
}
