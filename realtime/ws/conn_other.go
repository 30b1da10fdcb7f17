//go:build !unix

package ws

import (
	"errors"
	"net"
)

// nbWriter is unavailable here: every write goes through a writer goroutine.
type nbWriter struct{}

func newNBWriter(net.Conn) *nbWriter { return nil }

func (*nbWriter) write([]byte) (int, error) {
	return 0, errors.New("realtime: non-blocking writes are not supported on this platform")
}
