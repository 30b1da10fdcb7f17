package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/eventstore"
)

// RecordedAtNeverGoesBack checks a store that stamps RecordedAt with a
// clock of its own (sqlite, postgres; not esdb, whose node stamps it):
// RecordedAt is non-decreasing in position order, which time travel relies
// on. A clock that steps back, or another handle on the same store (another
// process) whose clock is behind, repeats the latest stamp rather than
// going back. open returns a new handle on one and the same empty store,
// stamping with now, and arranges its Close.
func RecordedAtNeverGoesBack(t *testing.T, open func(t *testing.T, now func() time.Time) eventstore.Store) {
	at := time.Date(2026, 2, 3, 14, 0, 0, 0, time.UTC)
	clock := func(d time.Duration) func() time.Time { return func() time.Time { return at.Add(d) } }
	var mu sync.Mutex
	step := time.Hour
	stepping := func() time.Time { // 14:00, then 13:00, 12:00…
		mu.Lock()
		defer mu.Unlock()
		step -= time.Hour
		return at.Add(step)
	}
	back := open(t, stepping)
	behind := open(t, clock(-24*time.Hour))
	ahead := open(t, clock(time.Hour))
	for i, s := range []eventstore.Store{back, back, behind, ahead, behind, back} {
		mustAppend(t, s, "log-1", eventstore.Any, newEvent(fmt.Sprint(i)))
	}
	got := readAll(t, back, eventstore.Position{}, eventstore.Filter{}, 0)
	if len(got) != 6 {
		t.Fatalf("read %d events, want 6", len(got))
	}
	want := []time.Time{at, at, at, at.Add(time.Hour), at.Add(time.Hour), at.Add(time.Hour)}
	for i, e := range got {
		if !e.RecordedAt.Equal(want[i]) {
			t.Errorf("event %d recorded at %v, want %v", i, e.RecordedAt, want[i])
		}
	}
}
