package ws_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
	"github.com/senapred-valparaiso/vigia/realtime/memory"
	"github.com/senapred-valparaiso/vigia/realtime/ws"
)

// wait bounds every wait in these tests; exceeding it fails the test.
const wait = 10 * time.Second

type serverOptions struct {
	hub      ws.HubOptions
	identify ws.IdentifyFunc
	sendBuf  int  // if > 0, SO_SNDBUF of every accepted connection
	tls      bool // serve wss://: the hub cannot write to a TLS socket without waiting, so every write goes through a writer goroutine
	quiet    bool
}

// server is a real Fiber app on 127.0.0.1:0 serving a hub fed by a memory
// broker.
type server struct {
	hub    *ws.Hub
	broker *gapBroker
	ws     string      // ws://…/ws (wss:// over TLS)
	http   string      // http://…/ws
	tls    *tls.Config // the client side's, over TLS
}

func startServer(tb testing.TB, o serverOptions) *server {
	tb.Helper()
	log := zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.InfoLevel)
	if o.quiet {
		log = zerolog.Nop()
	}
	hub := ws.NewHub(log, o.hub)
	broker := newGapBroker(memory.New(memory.Options{}))
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", hub.Handler(o.identify))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if o.sendBuf > 0 {
		ln = sendBufListener{ln, o.sendBuf}
	}
	scheme, httpScheme := "ws://", "http://"
	var clientTLS *tls.Config
	if o.tls {
		var serverTLS *tls.Config
		serverTLS, clientTLS = selfSigned(tb)
		ln = tls.NewListener(ln, serverTLS)
		scheme, httpScheme = "wss://", "https://"
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- hub.Run(ctx, broker) }()
	tb.Cleanup(func() {
		if err := hub.Close(); err != nil {
			tb.Errorf("hub close: %v", err)
		}
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				tb.Errorf("hub run: %v", err)
			}
		case <-time.After(wait):
			tb.Errorf("hub.Run did not return within %v", wait)
		}
		if err := app.ShutdownWithTimeout(wait); err != nil {
			tb.Errorf("app shutdown: %v", err)
		}
		select {
		case <-served:
		case <-time.After(wait):
			tb.Errorf("app.Listener did not return within %v", wait)
		}
		_ = broker.Close()
	})
	select {
	case <-broker.subscribed:
	case <-time.After(wait):
		tb.Fatalf("hub did not subscribe within %v", wait)
	}
	return &server{hub: hub, broker: broker, ws: scheme + addr + "/ws", http: httpScheme + addr + "/ws", tls: clientTLS}
}

func (s *server) publish(tb testing.TB, msgs ...notice.Message) {
	tb.Helper()
	for _, m := range msgs {
		if err := s.broker.Publish(context.Background(), m); err != nil {
			tb.Fatalf("publish %s: %v", m.Position, err)
		}
	}
}

// waitFor polls cond until it holds; a bounded wait, not a timing assertion.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// msg is change notice number n: position "p<n>", zero-padded, chained to
// notice n-1 as one publisher's notices are.
func msg(n int, topic string, comunas ...string) notice.Message {
	m := notice.Message{
		Type:     topic + ".updated",
		Topic:    topic,
		Position: pos(n),
		Comunas:  comunas,
		Data:     json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
	}
	if n > 1 {
		m.Prev = pos(n - 1)
	}
	return m
}

func pos(n int) string { return fmt.Sprintf("p%05d", n) }

// client is a real WebSocket client over loopback.
type client struct {
	tb   testing.TB
	conn *fws.Conn
}

func dial(tb testing.TB, s *server, query string) *client {
	tb.Helper()
	conn, err := dialConn(s, query, nil)
	if err != nil {
		tb.Fatalf("dial %q: %v", query, err)
	}
	c := &client{tb: tb, conn: conn}
	tb.Cleanup(c.close)
	return c
}

func dialConn(s *server, query string, d *fws.Dialer) (*fws.Conn, error) {
	if d == nil {
		d = &fws.Dialer{HandshakeTimeout: wait}
	}
	if s.tls != nil {
		withTLS := *d
		withTLS.TLSClientConfig = s.tls
		d = &withTLS
	}
	u := s.ws
	if query != "" {
		u += "?" + query
	}
	conn, resp, err := d.Dial(u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	return conn, nil
}

// dialStatus attempts an upgrade and returns the HTTP status it got.
func dialStatus(tb testing.TB, s *server, query string, header http.Header) int {
	tb.Helper()
	d := &fws.Dialer{HandshakeTimeout: wait, TLSClientConfig: s.tls}
	conn, resp, err := d.Dial(s.ws+"?"+query, header)
	if err == nil {
		_ = conn.Close()
		return http.StatusSwitchingProtocols
	}
	if !errors.Is(err, fws.ErrBadHandshake) || resp == nil {
		tb.Fatalf("dial %q: %v", query, err)
	}
	return resp.StatusCode
}

// next reads the next message, failing the test on anything else.
func (c *client) next() notice.Message {
	c.tb.Helper()
	m, err := readMessage(c.conn)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return m
}

func readMessage(conn *fws.Conn) (notice.Message, error) {
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	typ, data, err := conn.ReadMessage()
	if err != nil {
		return notice.Message{}, err
	}
	if typ != fws.TextMessage {
		return notice.Message{}, fmt.Errorf("got frame type %d, want text", typ)
	}
	var m notice.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return notice.Message{}, fmt.Errorf("decode %s: %w", data, err)
	}
	return m, nil
}

// expect reads one message and checks its type and position.
func (c *client) expect(typ, position string) notice.Message {
	c.tb.Helper()
	m := c.next()
	if m.Type != typ || m.Position != position {
		c.tb.Fatalf("got {type %q, position %q}, want {type %q, position %q}", m.Type, m.Position, typ, position)
	}
	return m
}

// expectClose reads until the connection closes and returns the close error;
// data messages before it are returned too.
func (c *client) expectClose() ([]notice.Message, *fws.CloseError) {
	c.tb.Helper()
	var got []notice.Message
	for {
		m, err := readMessage(c.conn)
		if err == nil {
			got = append(got, m)
			continue
		}
		var ce *fws.CloseError
		if !errors.As(err, &ce) {
			c.tb.Fatalf("read: got %v, want a close frame", err)
		}
		return got, ce
	}
}

func (c *client) close() {
	_ = c.conn.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(fws.CloseNormalClosure, ""), time.Now().Add(wait))
	_ = c.conn.Close()
}

// sendBufListener shrinks the kernel send buffer of accepted connections, so a
// client that stops reading backs up into the hub quickly.
type sendBufListener struct {
	net.Listener
	size int
}

func (l sendBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(l.size)
	}
	return c, err
}

// smallReadDialer dials with a small kernel receive buffer.
func smallReadDialer(size int) *fws.Dialer {
	return &fws.Dialer{
		HandshakeTimeout: wait,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(size)
			}
			return c, err
		},
	}
}

// gapBroker wraps a broker to tell when the hub subscribed and to cut the
// hub's subscription, as a Redis disconnection or an overflow would.
type gapBroker struct {
	realtime.Broker
	subscribed chan struct{} // one value per Subscribe
	cuts       chan struct{}
}

func newGapBroker(b realtime.Broker) *gapBroker {
	return &gapBroker{Broker: b, subscribed: make(chan struct{}, 16), cuts: make(chan struct{}, 1)}
}

func (g *gapBroker) Subscribe(ctx context.Context) (<-chan notice.Message, error) {
	ctx, cancel := context.WithCancel(ctx)
	in, err := g.Broker.Subscribe(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan notice.Message, memory.DefaultBuffer) // buffered like the adapters, so messages can queue up for the hub
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- m:
				case <-g.cuts:
					return
				}
			case <-g.cuts:
				return
			}
		}
	}()
	g.subscribed <- struct{}{}
	return out, nil
}

// cut ends the current subscription.
func (g *gapBroker) cut() { g.cuts <- struct{}{} }

// overTCPAndTLS runs test twice, in parallel: over plain TCP, where the hub
// writes to an idle socket at once, and over TLS, where it cannot write
// without waiting and every write goes through a writer goroutine.
func overTCPAndTLS(t *testing.T, test func(t *testing.T, tls bool)) {
	for _, useTLS := range []bool{false, true} {
		name := "tcp"
		if useTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, useTLS)
		})
	}
}

// selfSigned returns a server TLS configuration with a fresh certificate for
// 127.0.0.1, and a client configuration that trusts it.
func selfSigned(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	return server, &tls.Config{RootCAs: pool}
}
