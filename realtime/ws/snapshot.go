package ws

import (
	"context"
	"strings"

	"github.com/senapred-valparaiso/vigia/notice"
)

// maxSnapshots bounds how many encoded snapshots (one per filter) the hub
// keeps at once; past it, a snapshot is built for its client alone.
const maxSnapshots = 32

// snapKey is a client filter: clients with the same one get the same
// snapshot.
type snapKey struct {
	topics  uint8
	comunas string // sorted, comma-separated
}

// snapEntry is one snapshot being built or built: its encoded frame is
// shared, read-only, by every client that takes it.
type snapEntry struct {
	// startSeq is the hub's seq when the build started. The snapshot
	// reflects every message up to it (the read models are at least as new
	// as any notice the hub received), so it may go to any client
	// registered at a seq at or below it: what came later is in that
	// client's queue.
	startSeq uint64
	done     chan struct{} // closed when frame, position and err are set
	frame    []byte
	position string
	err      error
}

// sharedSnapshot returns the snapshot for a client with filter r registered
// at regSeq: one built or being built since then for the same filter, or a
// new one. So N clients resuming at once (or one after another with no
// change in between) cost one read of the read models and one encoding.
// The build runs on its own, bounded by SnapshotTimeout and the hub's
// life, so a client that leaves does not fail the others.
func (h *Hub) sharedSnapshot(r *request, regSeq uint64) *snapEntry {
	key := snapKey{topics: r.topics, comunas: strings.Join(r.comunas, ",")}
	h.mu.Lock()
	seq := h.seq
	h.mu.Unlock()

	h.snapMu.Lock()
	if e := h.snaps[key]; e != nil && e.startSeq >= regSeq && !failed(e) {
		h.snapMu.Unlock()
		return e
	}
	e := &snapEntry{startSeq: seq, done: make(chan struct{})}
	for k, old := range h.snaps { // drop what no new client can take
		if isDone(old) && (old.startSeq < seq || old.err != nil) {
			delete(h.snaps, k)
		}
	}
	if len(h.snaps) < maxSnapshots {
		h.snaps[key] = e
	}
	h.snapMu.Unlock()

	go h.buildSnapshot(e, r.topicNames, r.comunas)
	return e
}

func (h *Hub) buildSnapshot(e *snapEntry, topics, comunas []string) {
	defer close(e.done)
	h.stats.built.Add(1)
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.SnapshotTimeout)
	defer cancel()
	data, position, err := h.opts.Snapshot(ctx, topics, comunas)
	if err != nil {
		e.err = err
		return
	}
	e.frame, e.err = encodeFrame(notice.Message{Type: TypeSnapshot, Position: position, Data: data})
	e.position = position
}

func isDone(e *snapEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// failed reports whether e's build is over and failed: the next client
// tries again.
func failed(e *snapEntry) bool { return isDone(e) && e.err != nil }
