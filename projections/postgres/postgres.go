package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/internal/pg/pgerr"
	"github.com/senapred-valparaiso/vigia/projections"
)

var (
	_ projections.ReadModel       = (*ReadModel)(nil)
	_ projections.SharedReadModel = (*ReadModel)(nil)
	_ projections.Queries         = (*ReadModel)(nil)
)

// ErrUnavailable is what errors meaning "the read model's database cannot
// be reached now" wrap, besides eventstore.ErrUnavailable (which the web
// layer maps to 503).
var ErrUnavailable = errors.New("read model unavailable")

// errClosed is returned by a closed read model.
var errClosed = fmt.Errorf("read model closed: %w", eventstore.ErrUnavailable)

// maxCached bounds the stream states an instance keeps between batches.
const maxCached = 20000

// ReadModel is the read model in a Postgres schema (the first of the
// connection's search_path). It is safe for concurrent use, and any number
// of ReadModels, in one process or many, may share a schema: one of their
// projectors applies (see Lead), all of them serve reads.
type ReadModel struct {
	pool      *pgxpool.Pool
	schema    string
	leadKey   int64  // advisory lock of the active projector
	buildKey  int64  // advisory lock of a rebuild
	channel   string // NOTIFY channel of checkpoint moves
	leasePoll time.Duration

	// beforeCommit, when set by a test, runs in every Apply transaction
	// after its writes were sent, just before COMMIT; an error rolls the
	// batch back.
	beforeCommit func(ctx context.Context, tx pgx.Tx) error

	// applyMu serialises this instance's Applies; it guards the cache.
	applyMu  sync.Mutex
	cache    map[string]*projections.StreamState
	cacheAt  eventstore.Position // the checkpoint the cache reflects
	cacheGen int64               // the table generation it reflects

	mu     sync.Mutex
	closed bool
	leases map[*lease]struct{}
}

// Option configures a ReadModel.
type Option func(*ReadModel)

// WithLeasePoll sets how often a standing-by instance tries the lease and
// reads the checkpoint without being woken by a NOTIFY (default 1s): the
// bound on how long a takeover waits after the holder is gone. d <= 0 keeps
// the default.
func WithLeasePoll(d time.Duration) Option {
	return func(m *ReadModel) {
		if d > 0 {
			m.leasePoll = d
		}
	}
}

// Open connects to the database at dsn (a pgx connection string; pool_*
// parameters tune the pool), applies the migrations the schema lacks and
// returns the read model. An unreachable server is an error wrapping
// eventstore.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (*ReadModel, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A request must not hang on a server that vanished without a reset.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open read model: %w", classify(err))
	}
	m, err := open(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open read model: %w", err)
	}
	return m, nil
}

func open(ctx context.Context, pool *pgxpool.Pool, opts []Option) (*ReadModel, error) {
	if err := pool.Ping(ctx); err != nil {
		return nil, classify(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	m := &ReadModel{pool: pool, leasePoll: time.Second, leases: map[*lease]struct{}{}}
	err := pool.QueryRow(ctx, `SELECT current_schema(),
		hashtextextended('vigia/readmodel/lead/' || current_schema(), 0),
		hashtextextended('vigia/readmodel/rebuild/' || current_schema(), 0)`).Scan(&m.schema, &m.leadKey, &m.buildKey)
	if err != nil {
		return nil, classify(err)
	}
	sum := sha256.Sum256([]byte(m.schema))
	m.channel = "vigia_rm_" + hex.EncodeToString(sum[:8])
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// Ping reports whether the database answers: the read model's readiness
// check.
func (m *ReadModel) Ping(ctx context.Context) error {
	if m.isClosed() {
		return fmt.Errorf("ping read model: %w", errClosed)
	}
	if err := m.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping read model: %w", classify(err))
	}
	return nil
}

// Close releases the leases this read model holds and closes its pool.
// Later calls return nil.
func (m *ReadModel) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	leases := make([]*lease, 0, len(m.leases))
	for l := range m.leases {
		leases = append(leases, l)
	}
	m.mu.Unlock()
	for _, l := range leases {
		_ = l.Release()
	}
	m.pool.Close()
	return nil
}

func (m *ReadModel) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Checkpoint implements projections.ReadModel: the position of the last
// event applied, shared by every instance.
func (m *ReadModel) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	if m.isClosed() {
		return eventstore.Position{}, fmt.Errorf("checkpoint: %w", errClosed)
	}
	var c, p int64
	if err := m.pool.QueryRow(ctx, `SELECT commit_position, prepare_position FROM rm_checkpoint`).Scan(&c, &p); err != nil {
		return eventstore.Position{}, fmt.Errorf("checkpoint: %w", classify(err))
	}
	return position(c, p), nil
}

// Generation is how many rebuilds have been swapped in.
func (m *ReadModel) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := m.pool.QueryRow(ctx, `SELECT generation FROM rm_checkpoint`).Scan(&g); err != nil {
		return 0, fmt.Errorf("generation: %w", classify(err))
	}
	return g, nil
}

func position(c, p int64) eventstore.Position {
	return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}
}

// columns maps a position onto two bigint columns.
func columns(p eventstore.Position) (int64, int64, error) {
	if p.Commit > math.MaxInt64 || p.Prepare > math.MaxInt64 {
		return 0, 0, fmt.Errorf("%w: %s does not fit the read model's columns", eventstore.ErrBadPosition, p)
	}
	return int64(p.Commit), int64(p.Prepare), nil
}

// fail maps an error of the pool: a closed model's, or classify's.
func (m *ReadModel) fail(err error) error {
	if m.isClosed() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return errClosed
	}
	return classify(err)
}

// classify wraps err with eventstore.ErrUnavailable (and ErrUnavailable)
// when it means the database cannot be reached now, as opposed to a
// failing statement or a cancelled context, so that the web layer answers
// 503.
func classify(err error) error {
	if unavailable(err) {
		return fmt.Errorf("%w: %w: %w", eventstore.ErrUnavailable, ErrUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	return errors.Is(err, eventstore.ErrUnavailable) || pgerr.Unreachable(err)
}
