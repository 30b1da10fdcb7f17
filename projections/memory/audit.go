package memory

import (
	"context"
	"sort"

	"github.com/senapred-valparaiso/vigia/projections"
)

// Audit returns the audit records q selects, in q's order. The index is
// the records in position order, so a cursor is a binary search and a page
// is a scan from it that stops at the limit.
func (m *ReadModel) Audit(_ context.Context, q projections.AuditQuery) ([]projections.AuditRecord, error) {
	q = q.Normalize()
	m.mu.RLock()
	defer m.mu.RUnlock()
	recs := m.audit
	// Keep what lies strictly between the cursors.
	if !q.After.IsZero() {
		i := sort.Search(len(recs), func(i int) bool { return recs[i].Position.Compare(q.After) > 0 })
		recs = recs[i:]
	}
	if !q.Before.IsZero() {
		i := sort.Search(len(recs), func(i int) bool { return recs[i].Position.Compare(q.Before) >= 0 })
		recs = recs[:i]
	}
	out := []projections.AuditRecord{}
	for k := range recs {
		i := k
		if q.Newest {
			i = len(recs) - 1 - k
		}
		if q.Matches(&recs[i]) {
			out = append(out, recs[i])
			if len(out) == q.Limit {
				break
			}
		}
	}
	return out, nil
}
