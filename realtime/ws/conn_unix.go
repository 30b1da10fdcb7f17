//go:build unix

package ws

import (
	"net"
	"syscall"
)

// nbWriter writes to a socket without ever waiting. Not safe for concurrent
// use: its client calls it with its mutex held.
type nbWriter struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool // w.do, bound once so a write allocates nothing
	b   []byte
	n   int
	err error
}

// newNBWriter returns a writer for nc's descriptor, or nil when nc offers
// none (TLS); then every write goes through a writer goroutine.
func newNBWriter(nc net.Conn) *nbWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &nbWriter{raw: raw}
	w.fn = w.do
	return w
}

// write writes as much of b as the socket's send buffer takes, without
// waiting: n < len(b) with a nil error means the buffer is full. An error
// means the connection failed. It holds the descriptor's write lock, so it
// never interleaves with another write on the same socket.
func (w *nbWriter) write(b []byte) (n int, err error) {
	w.b, w.n, w.err = b, 0, nil
	err = w.raw.Write(w.fn)
	n = w.n
	if err == nil {
		err = w.err
	}
	w.b, w.err = nil, nil
	return n, err
}

func (w *nbWriter) do(fd uintptr) bool {
	for w.n < len(w.b) {
		m, e := syscall.Write(int(fd), w.b[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case e == syscall.EINTR:
		case e == syscall.EAGAIN:
			return true
		case e != nil:
			w.err = e
			return true
		case m <= 0:
			return true // nothing taken and no error: leave the rest to the writer
		}
	}
	return true // never wait: what is left goes to the writer goroutine
}
