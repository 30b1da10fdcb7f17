package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// connect opens a connection of its own (not from the pool) for a lease or
// a rebuild's locks. TCP keepalives on both ends bound how long a lock
// outlives a host that vanished without closing its connection.
func (m *ReadModel) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg := m.pool.Config().ConnConfig.Copy()
	d := &net.Dialer{
		Timeout:         cfg.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3},
	}
	cfg.DialFunc = d.DialContext
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, classify(err)
	}
	_, err = conn.Exec(ctx, `SELECT set_config('tcp_keepalives_idle', '5', false),
		set_config('tcp_keepalives_interval', '2', false), set_config('tcp_keepalives_count', '3', false)`)
	if err != nil {
		_ = conn.Close(context.Background())
		return nil, classify(err)
	}
	return conn, nil
}

// TryLead implements projections.SharedReadModel: it takes the lease if
// no instance holds it.
func (m *ReadModel) TryLead(ctx context.Context) (projections.Lease, bool, error) {
	if m.isClosed() {
		return nil, false, fmt.Errorf("lead: %w", errClosed)
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lead: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, m.leadKey).Scan(&ok); err != nil {
		_ = conn.Close(context.Background())
		return nil, false, fmt.Errorf("lead: %w", classify(err))
	}
	if !ok {
		_ = conn.Close(context.Background())
		return nil, false, nil
	}
	return m.newLease(conn), true, nil
}

// Lead implements projections.SharedReadModel. Standing by, it LISTENs on
// the checkpoint channel and, on every notification and at least every
// lease poll interval, tries the lock and reads the checkpoint in one
// query, handing the checkpoint to standby.
func (m *ReadModel) Lead(ctx context.Context, standby func(eventstore.Position)) (projections.Lease, error) {
	if m.isClosed() {
		return nil, fmt.Errorf("lead: %w", errClosed)
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	l, err := m.lead(ctx, conn, standby)
	if err != nil {
		_ = conn.Close(context.Background())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lead: %w", classify(err))
	}
	return l, nil
}

func (m *ReadModel) lead(ctx context.Context, conn *pgx.Conn, standby func(eventstore.Position)) (*lease, error) {
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{m.channel}.Sanitize()); err != nil {
		return nil, err
	}
	for {
		var (
			ok   bool
			c, p int64
		)
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1), commit_position, prepare_position FROM rm_checkpoint`, m.leadKey).Scan(&ok, &c, &p)
		if err != nil {
			return nil, err
		}
		if ok {
			if _, err := conn.Exec(ctx, "UNLISTEN *"); err != nil {
				return nil, err
			}
			return m.newLease(conn), nil
		}
		if standby != nil {
			standby(position(c, p))
		}
		wait, cancel := context.WithTimeout(ctx, m.leasePoll)
		_, err = conn.WaitForNotification(wait)
		cancel()
		if err != nil && (ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
			return nil, err
		}
		// One look at the checkpoint answers every commit notified so far.
		for {
			if n, err := conn.WaitForNotification(done); n == nil || err != nil {
				break
			}
		}
	}
}

// done is a context that has ended: waiting on it takes only what was
// already received.
var done = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// lease holds the read model's advisory lock on its own connection. A
// goroutine blocks reading that connection, so a server that ends the
// session (restart, pg_terminate_backend) or a dead TCP peer is noticed at
// once, not at the next statement.
type lease struct {
	m    *ReadModel
	conn *pgx.Conn
	lost chan struct{}
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

func (m *ReadModel) newLease(conn *pgx.Conn) *lease {
	ctx, stop := context.WithCancel(context.Background())
	l := &lease{m: m, conn: conn, lost: make(chan struct{}), stop: stop, done: make(chan struct{})}
	m.mu.Lock()
	m.leases[l] = struct{}{}
	m.mu.Unlock()
	go func() {
		defer close(l.done)
		for {
			if _, err := conn.WaitForNotification(ctx); err != nil {
				break
			}
		}
		// Closing the session is what releases the lock, at once.
		_ = conn.Close(context.Background())
		close(l.lost)
	}()
	return l
}

// Lost implements projections.Lease.
func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release implements projections.Lease: it ends the lock's session.
func (l *lease) Release() error {
	l.once.Do(func() {
		l.stop()
		<-l.done
		l.m.mu.Lock()
		delete(l.m.leases, l)
		l.m.mu.Unlock()
	})
	return nil
}

// pid returns the backend process holding the lease, for tests.
func (l *lease) pid() uint32 { return l.conn.PgConn().PID() }
