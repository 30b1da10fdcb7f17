package ws

// entry is one message as the hub keeps it: encoded once, as the WebSocket
// frame every client receives, with the routing metadata the filters need.
// Entries are immutable once appended, so clients and the history share
// them, and a write may hand the kernel any part of frame.
type entry struct {
	seq      uint64 // hub arrival order, from 1; 0 for a hub message outside the history
	topic    uint8  // topic bit, 0 for an unknown topic
	region   bool
	comunas  []string
	position string
	frame    []byte // a text frame holding {"type","position","data"}
}

// ring is the hub's history: the last len(buf) entries in arrival order.
type ring struct {
	buf  []*entry
	head int // index of the oldest entry
	n    int
}

func newRing(size int) *ring { return &ring{buf: make([]*entry, size)} }

func (r *ring) push(e *entry) {
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = e
		r.n++
		return
	}
	r.buf[r.head] = e
	r.head = (r.head + 1) % len(r.buf)
}

func (r *ring) at(i int) *entry { return r.buf[(r.head+i)%len(r.buf)] }

// find returns the index of the newest entry at position, scanning from the
// newest since a resuming client is usually recent.
func (r *ring) find(position string) (int, bool) {
	for i := r.n - 1; i >= 0; i-- {
		if r.at(i).position == position {
			return i, true
		}
	}
	return 0, false
}

// after returns a copy of the entries newer than index i.
func (r *ring) after(i int) []*entry {
	if i+1 >= r.n {
		return nil
	}
	out := make([]*entry, 0, r.n-i-1)
	for j := i + 1; j < r.n; j++ {
		out = append(out, r.at(j))
	}
	return out
}

// reset forgets every entry, so no resume can cross a gap in the history.
func (r *ring) reset() {
	clear(r.buf)
	r.head, r.n = 0, 0
}
