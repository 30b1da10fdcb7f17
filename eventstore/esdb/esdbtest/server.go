package esdbtest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
)

// Version is the server version GetSupportedMethods reports: the version of
// the EventStoreDB source this server's behaviour was transcribed from.
const Version = "25.0.0"

// Server is an in-memory EventStoreDB node serving gRPC on 127.0.0.1. It
// is safe for concurrent use. Its data outlives Stop and Restart.
type Server struct {
	now func() time.Time

	mu      sync.Mutex
	log     []*record              // $all, in position order
	streams map[string][]*record   // each stream's events, by revision
	ids     map[uuid.UUID]cachedID // the node's committed-event-ID cache
	head    uint64                 // log position of the next record
	changed chan struct{}          // closed and replaced by every write
	subs    map[string]struct{}    // running subscription IDs, for tests

	netMu sync.Mutex
	addr  string // fixed by the first Start
	srv   *grpc.Server
	tls   *tls.Config

	usersMu sync.Mutex
	users   []string // user names of the Basic credentials seen, in order
}

// record is one event of the log. Records are immutable once written.
type record struct {
	id       uuid.UUID
	stream   string
	revision uint64
	typ      string
	json     bool
	data     []byte
	meta     []byte
	created  int64 // 100 ns ticks since the Unix epoch
	pos      uint64
}

// cachedID is where the ID cache says an event ID was written.
type cachedID struct {
	stream   string
	revision int64
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock that stamps each event's "created" metadata
// (default time.Now). A nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// WithTLS serves over TLS with cfg (the node's default; without it the
// server is what a node started with --insecure is).
func WithTLS(cfg *tls.Config) Option {
	return func(s *Server) { s.tls = cfg }
}

// New returns a stopped server holding a fresh node's log: a few events in
// system streams. Start it with Start.
func New(opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		streams: map[string][]*record{},
		ids:     map[uuid.UUID]cachedID{},
		changed: make(chan struct{}),
		subs:    map[string]struct{}{},
		// The first records of a real transaction file are the epoch and
		// its bookkeeping; user events never sit at position 0.
		head: 0x100,
	}
	for _, o := range opts {
		o(s)
	}
	for _, sys := range []struct{ stream, typ string }{
		{"$epoch-information", "$epoch-information"},
		{"$settings", "$update-default-acl"},
		{"$scavenges", "$scavengeIndexInitialized"},
	} {
		s.writeSystem(sys.stream, sys.typ, []byte(`{}`))
	}
	return s
}

// NewServer starts a server on a random port of 127.0.0.1 and stops it when
// the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	if err := s.Start(); err != nil {
		tb.Fatalf("esdbtest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Start serves on 127.0.0.1: on a random port the first time, then on the
// same port again. Starting a running server does nothing.
func (s *Server) Start() error {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	if s.srv != nil {
		return nil
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.addr = lis.Addr().String()
	opts := []grpc.ServerOption{
		// The Go client pings every 10 s even without calls; a real node
		// (Kestrel) does not object, grpc-go's default policy would.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		// Stop returns once every handler has returned.
		grpc.WaitForHandlers(true),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			s.sawCredentials(ctx)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			s.sawCredentials(ss.Context())
			return h(srv, ss)
		}),
	}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	srv := grpc.NewServer(opts...)
	streams.RegisterStreamsServer(srv, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(srv, &featuresService{})
	s.srv = srv
	go func() { _ = srv.Serve(lis) }() // returns when Stop closes lis
	return nil
}

// Stop closes the listener and every connection: running calls fail with
// Unavailable on the client side. The data and the ID cache are kept, so
// Stop then Start is the node becoming unreachable and reachable again (a
// network cut); Restart is the node's process restarting.
func (s *Server) Stop() {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	if s.srv == nil {
		return
	}
	s.srv.Stop()
	s.srv = nil
}

// Restart stops the server and starts it again on the same port with the
// same events, like a node restarting. The committed-event-ID cache is
// emptied, as the node keeps it in memory only.
func (s *Server) Restart() error {
	s.Stop()
	s.mu.Lock()
	s.ids = map[uuid.UUID]cachedID{}
	s.mu.Unlock()
	return s.Start()
}

// Addr is the server's host:port (empty before the first Start).
func (s *Server) Addr() string {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	return s.addr
}

// ConnString is the connection string a client uses for this node:
// single node, no TLS.
func (s *Server) ConnString() string { return "esdb://" + s.Addr() + "?tls=false" }

// AppendSystemEvent writes one event to a system stream, as the node
// itself does (stats, scavenges, settings); stream must start with "$".
func (s *Server) AppendSystemEvent(stream, typ string, data []byte) error {
	if len(stream) == 0 || stream[0] != '$' {
		return errors.New("a system stream name starts with $")
	}
	s.writeSystem(stream, typ, slices.Clone(data))
	return nil
}

// Event is a stored event as the test hook Events shows it.
type Event struct {
	ID       uuid.UUID
	Stream   string
	Revision uint64
	Type     string
	Position uint64 // commit and prepare position
	Data     []byte
	Metadata []byte
}

// Events returns every event of the log, system events included, in
// position order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.log))
	for i, r := range s.log {
		out[i] = Event{ID: r.id, Stream: r.stream, Revision: r.revision, Type: r.typ, Position: r.pos, Data: r.data, Metadata: r.meta}
	}
	return out
}

// sawCredentials records the user of a call's Basic credentials, which the
// node would check and this server only notes.
func (s *Server) sawCredentials(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		b64, ok := strings.CutPrefix(v, "Basic ")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		user, _, _ := strings.Cut(string(raw), ":")
		s.usersMu.Lock()
		s.users = append(s.users, user)
		s.usersMu.Unlock()
	}
}

// Users returns the user names of the Basic credentials calls carried, in
// order (the server never checks them).
func (s *Server) Users() []string {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	return slices.Clone(s.users)
}

// ConnStringTLS is a connection string for a server started WithTLS whose
// certificate is in caFile, with credentials.
func (s *Server) ConnStringTLS(user, password, caFile string) string {
	return "esdb://" + url.UserPassword(user, password).String() + "@" + s.Addr() + "?tlsCAFile=" + url.QueryEscape(caFile)
}

// Subscriptions returns how many $all subscriptions are being served.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func (s *Server) writeSystem(stream, typ string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.write(stream, []proposed{{id: uuid.New(), typ: typ, json: true, data: data}})
}

// proposed is an event of an append request.
type proposed struct {
	id   uuid.UUID
	typ  string
	json bool
	data []byte
	meta []byte
}

// recordSize is how many bytes of the imaginary transaction file a record
// takes: a prepare record's fixed part plus its variable fields.
func recordSize(stream string, p proposed) uint64 {
	return 86 + uint64(len(stream)+len(p.typ)+len(p.data)+len(p.meta))
}

// write appends events to stream; the caller holds s.mu and has decided
// the append.
func (s *Server) write(stream string, events []proposed) {
	created := s.now().UnixNano() / 100
	for _, p := range events {
		r := &record{
			id:       p.id,
			stream:   stream,
			revision: uint64(len(s.streams[stream])),
			typ:      p.typ,
			json:     p.json,
			data:     p.data,
			meta:     p.meta,
			created:  created,
			pos:      s.head,
		}
		s.head += recordSize(stream, p)
		s.log = append(s.log, r)
		s.streams[stream] = append(s.streams[stream], r)
		s.ids[p.id] = cachedID{stream: stream, revision: int64(r.revision)}
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// tfpos is a position of the transaction file as the protocol carries it.
type tfpos struct{ commit, prepare uint64 }

func (p tfpos) less(q tfpos) bool {
	return p.commit < q.commit || (p.commit == q.commit && p.prepare < q.prepare)
}

func (r *record) tfpos() tfpos { return tfpos{r.pos, r.pos} }

// featuresService answers the client's handshake.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods lists what this server implements, named as
// ServerFeatures.cs names them (lower case).
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: Version,
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: "event_store.client.streams.streams", MethodName: "read", Features: []string{"position", "events"}},
			{ServiceName: "event_store.client.streams.streams", MethodName: "append"},
		},
	}, nil
}
