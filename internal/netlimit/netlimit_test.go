package netlimit_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/internal/netlimit"
)

// flaky fails its first n Accepts with err, then accepts from the real
// listener.
type flaky struct {
	net.Listener
	mu  sync.Mutex
	n   int
	err error
}

func (f *flaky) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.n > 0 {
		f.n--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", f.err)}
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestAcceptRetriesTemporaryErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			raw := listen(t)
			l := netlimit.New(&flaky{Listener: raw, n: 5, err: errno}, netlimit.Options{Log: zerolog.New(zerolog.NewTestWriter(t))})
			go func() {
				if c, err := net.Dial("tcp", raw.Addr().String()); err == nil {
					defer c.Close()
					time.Sleep(2 * time.Second)
				}
			}()
			c, err := l.Accept()
			if err != nil {
				t.Fatalf("accept: %v, want a connection after the errors", err)
			}
			c.Close()
			if got := l.Stats().AcceptErrors; got != 5 {
				t.Errorf("accept errors %d, want 5", got)
			}
		})
	}
}

func TestAcceptReturnsPermanentErrors(t *testing.T) {
	l := netlimit.New(&flaky{Listener: listen(t), n: 1, err: syscall.EBADF}, netlimit.Options{})
	if _, err := l.Accept(); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("got %v, want EBADF returned", err)
	}
}

func TestCloseEndsBackoff(t *testing.T) {
	l := netlimit.New(&flaky{Listener: listen(t), n: 1 << 30, err: syscall.EMFILE}, netlimit.Options{})
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("got %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

// serveEcho accepts from l until it closes; each connection echoes a byte.
func serveEcho(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			b := make([]byte, 1)
			for {
				if _, err := c.Read(b); err != nil {
					return
				}
				if _, err := c.Write(b); err != nil {
					return
				}
			}
		}()
	}
}

// served reports whether a connection to addr is served (echoes) rather
// than closed at once.
func served(t *testing.T, addr string) (net.Conn, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{'x'}); err != nil {
		c.Close()
		return nil, false
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		c.Close()
		return nil, false
	}
	return c, true
}

func TestCaps(t *testing.T) {
	for _, tc := range []struct {
		name         string
		total, perIP int
		want         int
	}{
		{"total", 3, 0, 3},
		{"per ip", 0, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := netlimit.New(listen(t), netlimit.Options{MaxConns: tc.total, MaxConnsPerIP: tc.perIP, Log: zerolog.New(zerolog.NewTestWriter(t))})
			go serveEcho(l)
			var open []net.Conn
			for i := range tc.want {
				c, ok := served(t, l.Addr().String())
				if !ok {
					t.Fatalf("connection %d refused, want %d served", i+1, tc.want)
				}
				open = append(open, c)
			}
			if _, ok := served(t, l.Addr().String()); ok {
				t.Fatalf("connection %d served, want it closed over the cap", tc.want+1)
			}
			if got := l.Stats().Rejected; got != 1 {
				t.Errorf("rejected %d, want 1", got)
			}
			// Closing one frees its place (the server notices the close).
			open[0].Close()
			deadline := time.Now().Add(5 * time.Second)
			for l.Stats().Open >= tc.want {
				if time.Now().After(deadline) {
					t.Fatalf("open %d after a close, want %d", l.Stats().Open, tc.want-1)
				}
				time.Sleep(10 * time.Millisecond)
			}
			c, ok := served(t, l.Addr().String())
			if !ok {
				t.Fatal("connection refused after one closed")
			}
			c.Close()
			for _, c := range open[1:] {
				c.Close()
			}
			l.Close()
		})
	}
}

func TestAutoMaxConns(t *testing.T) {
	for _, tc := range []struct {
		nofile uint64
		want   int
	}{{0, 0}, {200, 100}, {1024, 768}, {4096, 3840}, {1 << 20, netlimit.DefaultMaxConns}} {
		t.Run(fmt.Sprint(tc.nofile), func(t *testing.T) {
			if got := netlimit.AutoMaxConns(tc.nofile); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
