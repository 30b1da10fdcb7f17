package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Snapshots is the in-memory projections.SnapshotStore, beside the
// in-memory read model: lost at every restart, and written again by the
// snapshotter as it follows the log from its start. Each snapshot is kept
// encoded, so every read returns a state of its own.
type Snapshots struct {
	mu sync.RWMutex
	// by version, each sorted by boundary
	byVersion map[int][]storedSnapshot
}

type storedSnapshot struct {
	boundary time.Time
	position eventstore.Position
	alerts   []byte
}

var _ projections.SnapshotStore = (*Snapshots)(nil)

// NewSnapshots returns an empty snapshot store.
func NewSnapshots() *Snapshots { return &Snapshots{byVersion: map[int][]storedSnapshot{}} }

// Put implements projections.SnapshotStore.
func (m *Snapshots) Put(_ context.Context, s projections.Snapshot) error {
	alerts, err := json.Marshal(s.Alerts)
	if err != nil {
		return fmt.Errorf("put snapshot: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.byVersion[s.Version]
	i := sort.Search(len(list), func(i int) bool { return !list[i].boundary.Before(s.Boundary) })
	if i < len(list) && list[i].boundary.Equal(s.Boundary) {
		return nil // the first one stays
	}
	list = append(list, storedSnapshot{})
	copy(list[i+1:], list[i:])
	list[i] = storedSnapshot{boundary: s.Boundary, position: s.Position, alerts: alerts}
	m.byVersion[s.Version] = list
	return nil
}

// Before implements projections.SnapshotStore.
func (m *Snapshots) Before(_ context.Context, version int, t time.Time, maxPos eventstore.Position) (projections.Snapshot, bool, error) {
	m.mu.RLock()
	list := m.byVersion[version]
	i := sort.Search(len(list), func(i int) bool { return list[i].boundary.After(t) })
	var found storedSnapshot
	ok := false
	for i--; i >= 0 && !ok; i-- {
		if maxPos.IsZero() || list[i].position.Compare(maxPos) <= 0 {
			found, ok = list[i], true
		}
	}
	m.mu.RUnlock()
	if !ok {
		return projections.Snapshot{}, false, nil
	}
	return decodeSnapshot(version, found)
}

// Latest implements projections.SnapshotStore.
func (m *Snapshots) Latest(_ context.Context, version int) (projections.Snapshot, bool, error) {
	m.mu.RLock()
	list := m.byVersion[version]
	var found storedSnapshot
	ok := len(list) > 0
	if ok {
		found = list[len(list)-1]
	}
	m.mu.RUnlock()
	if !ok {
		return projections.Snapshot{}, false, nil
	}
	return decodeSnapshot(version, found)
}

// Reset implements projections.SnapshotStore.
func (m *Snapshots) Reset(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byVersion = map[int][]storedSnapshot{}
	return nil
}

// Len returns how many snapshots of version are stored.
func (m *Snapshots) Len(version int) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byVersion[version])
}

// decodeSnapshot decodes a copy of a stored snapshot (its encoded bytes
// are never changed once stored, so decoding outside the lock is safe).
func decodeSnapshot(version int, s storedSnapshot) (projections.Snapshot, bool, error) {
	out := projections.Snapshot{Version: version, Boundary: s.boundary, Position: s.position}
	if err := json.Unmarshal(s.alerts, &out.Alerts); err != nil {
		return projections.Snapshot{}, false, fmt.Errorf("decode snapshot at %s: %w", s.boundary.Format(time.RFC3339), err)
	}
	if out.Alerts == nil {
		out.Alerts = map[string]*projections.StreamState{}
	}
	return out, true, nil
}
