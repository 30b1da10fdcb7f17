package netlimit

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Backoff bounds after a temporary accept error.
const (
	MinBackoff = 5 * time.Millisecond
	MaxBackoff = time.Second
)

// DefaultMaxConns is the most the automatic total cap (AutoMaxConns) gives.
const DefaultMaxConns = 10_000

// reserveFDs is how many descriptors AutoMaxConns keeps for the hub's own
// files, database and Redis pools, and jobs.
const reserveFDs = 256

// AutoMaxConns is the total cap for a process allowed nofile descriptors:
// nofile less reserveFDs (or half of nofile, when that is more), at most
// DefaultMaxConns; 0 for nofile 0 (unknown: no cap).
func AutoMaxConns(nofile uint64) int {
	if nofile == 0 {
		return 0
	}
	n := max(nofile/2, nofile-min(nofile, reserveFDs))
	return int(min(n, DefaultMaxConns))
}

// Options configures a Listener. A cap of 0 or less is no cap.
type Options struct {
	// MaxConns is the most connections open at once; one more is closed as
	// soon as it is accepted.
	MaxConns int
	// MaxConnsPerIP is the most connections open at once from one address
	// (IPv6: one /64); one more is closed as soon as it is accepted.
	MaxConnsPerIP int
	// Log gets one line when a burst of accept errors starts and one when
	// it ends, and at most one every RejectLogEvery about rejections.
	Log zerolog.Logger
}

// RejectLogEvery is how often, at most, rejected connections are logged.
const RejectLogEvery = 10 * time.Second

// Stats counts what a Listener did.
type Stats struct {
	Open         int    // connections open now
	Rejected     uint64 // connections closed at once, over a cap
	AcceptErrors uint64 // temporary accept errors retried
}

// Listener is a net.Listener whose Accept retries temporary errors and
// enforces the caps. Its connections release their place when closed (the
// first Close). Safe for concurrent use.
type Listener struct {
	net.Listener
	opts Options
	log  zerolog.Logger
	done chan struct{}
	once sync.Once

	rejected, acceptErrors atomic.Uint64

	mu         sync.Mutex
	open       int
	perIP      map[netip.Addr]int
	lastReject time.Time // when rejections were last logged
	unlogged   uint64    // rejections since
}

// New wraps ln.
func New(ln net.Listener, opts Options) *Listener {
	return &Listener{
		Listener: ln,
		opts:     opts,
		log:      opts.Log.With().Str("component", "listener").Logger(),
		done:     make(chan struct{}),
		perIP:    make(map[netip.Addr]int),
	}
}

// Accept waits for the next connection within the caps. A temporary error
// (out of descriptors or memory, a connection aborted before it was
// accepted) is retried after a backoff; any other error is returned, and
// so is the listener's close.
func (l *Listener) Accept() (net.Conn, error) {
	var (
		delay    time.Duration
		failures uint64
		burst    time.Time
		firstErr error
	)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			switch {
			case l.closed():
				return nil, l.errClosed()
			case !Temporary(err):
				return nil, err
			}
			if delay == 0 {
				delay, burst, firstErr = MinBackoff, time.Now(), err
				l.log.Error().Err(err).Dur("max_backoff", MaxBackoff).Msg("accept failed; retrying with backoff")
			} else {
				delay = min(2*delay, MaxBackoff)
			}
			failures++
			l.acceptErrors.Add(1)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return nil, l.errClosed()
			}
			continue
		}
		if delay != 0 {
			l.log.Warn().AnErr("first_error", firstErr).Uint64("errors", failures).Dur("duration", time.Since(burst)).Msg("accepting again")
			delay, failures = 0, 0
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts c in, or closes it if it is over a cap.
func (l *Listener) admit(c net.Conn) net.Conn {
	ip := key(c.RemoteAddr())
	l.mu.Lock()
	over := l.opts.MaxConns > 0 && l.open >= l.opts.MaxConns ||
		l.opts.MaxConnsPerIP > 0 && ip.IsValid() && l.perIP[ip] >= l.opts.MaxConnsPerIP
	if over {
		l.unlogged++
		now := time.Now()
		logIt := now.Sub(l.lastReject) >= RejectLogEvery
		var n uint64
		if logIt {
			l.lastReject, n, l.unlogged = now, l.unlogged, 0
		}
		open, fromIP := l.open, l.perIP[ip]
		l.mu.Unlock()
		l.rejected.Add(1)
		_ = c.Close()
		if logIt {
			l.log.Warn().Str("remote_addr", ip.String()).Int("open", open).Int("open_from_addr", fromIP).
				Int("max_conns", l.opts.MaxConns).Int("max_conns_per_ip", l.opts.MaxConnsPerIP).
				Uint64("rejected", n).Msg("connections over the cap closed")
		}
		return nil
	}
	l.open++
	if ip.IsValid() {
		l.perIP[ip]++
	}
	l.mu.Unlock()
	return &conn{Conn: c, l: l, ip: ip}
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	l.open--
	if ip.IsValid() {
		if n := l.perIP[ip] - 1; n > 0 {
			l.perIP[ip] = n
		} else {
			delete(l.perIP, ip)
		}
	}
	l.mu.Unlock()
}

// Close closes the listener; an Accept waiting out a backoff returns.
// Closing it again does nothing.
func (l *Listener) Close() error {
	first := false
	l.once.Do(func() { close(l.done); first = true })
	if !first {
		return nil
	}
	return l.Listener.Close()
}

// errClosed is what Accept returns once the listener is closed, whatever
// the socket said: fasthttp's Serve treats it as a clean stop.
func (l *Listener) errClosed() error {
	return &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
}

func (l *Listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	open := l.open
	l.mu.Unlock()
	return Stats{Open: open, Rejected: l.rejected.Load(), AcceptErrors: l.acceptErrors.Load()}
}

// Temporary reports whether an accept error is worth retrying: the process
// or system is out of descriptors or buffers, or one connection failed
// before it was accepted. A closed listener's error is not.
func Temporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// key is the address a per-IP cap counts: the IP, or its /64 for IPv6 (one
// host usually has a whole /64).
func key(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// conn releases its place in the caps when first closed.
type conn struct {
	net.Conn
	l    *Listener
	ip   netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// SyscallConn gives the socket's descriptor, for writers that write without
// waiting (realtime/ws).
func (c *conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// Unwrap returns the connection under c.
func (c *conn) Unwrap() net.Conn { return c.Conn }
