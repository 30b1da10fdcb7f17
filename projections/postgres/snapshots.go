package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Snapshots is the Postgres projections.SnapshotStore: time travel's
// snapshots in the read model's schema (rm_snapshots), shared by every hub
// instance, kept across restarts.
type Snapshots struct{ m *ReadModel }

var _ projections.SnapshotStore = (*Snapshots)(nil)

// Snapshots returns the snapshot store in the read model's schema.
func (m *ReadModel) Snapshots() *Snapshots { return &Snapshots{m: m} }

// Put implements projections.SnapshotStore: a snapshot of the same version
// and boundary already stored stays (ON CONFLICT DO NOTHING).
func (s *Snapshots) Put(ctx context.Context, snap projections.Snapshot) error {
	if s.m.isClosed() {
		return fmt.Errorf("put snapshot: %w", errClosed)
	}
	c, p, err := columns(snap.Position)
	if err != nil {
		return fmt.Errorf("put snapshot: %w", err)
	}
	alerts, err := json.Marshal(snap.Alerts)
	if err != nil {
		return fmt.Errorf("put snapshot: %w", err)
	}
	_, err = s.m.pool.Exec(ctx, `INSERT INTO rm_snapshots (version, boundary, commit_position, prepare_position, alerts)
		VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT (version, boundary) DO NOTHING`,
		snap.Version, snap.Boundary.UTC(), c, p, string(alerts))
	if err != nil {
		return fmt.Errorf("put snapshot at %s: %w", snap.Boundary.Format(time.RFC3339), s.m.fail(err))
	}
	return nil
}

// Before implements projections.SnapshotStore.
func (s *Snapshots) Before(ctx context.Context, version int, t time.Time, maxPos eventstore.Position) (projections.Snapshot, bool, error) {
	c, p := int64(math.MaxInt64), int64(math.MaxInt64)
	if !maxPos.IsZero() {
		var err error
		if c, p, err = columns(maxPos); err != nil {
			return projections.Snapshot{}, false, fmt.Errorf("snapshot before %s: %w", t.Format(time.RFC3339), err)
		}
	}
	return s.one(ctx, `WHERE version = $1 AND boundary <= $2 AND (commit_position, prepare_position) <= ($3, $4)
		ORDER BY boundary DESC LIMIT 1`, version, t.UTC(), c, p)
}

// Latest implements projections.SnapshotStore.
func (s *Snapshots) Latest(ctx context.Context, version int) (projections.Snapshot, bool, error) {
	return s.one(ctx, `WHERE version = $1 ORDER BY boundary DESC LIMIT 1`, version)
}

func (s *Snapshots) one(ctx context.Context, where string, args ...any) (projections.Snapshot, bool, error) {
	if s.m.isClosed() {
		return projections.Snapshot{}, false, fmt.Errorf("read snapshot: %w", errClosed)
	}
	var (
		out    projections.Snapshot
		c, p   int64
		alerts []byte
	)
	err := s.m.pool.QueryRow(ctx, `SELECT version, boundary, commit_position, prepare_position, alerts FROM rm_snapshots `+where, args...).
		Scan(&out.Version, &out.Boundary, &c, &p, &alerts)
	if errors.Is(err, pgx.ErrNoRows) {
		return projections.Snapshot{}, false, nil
	}
	if err != nil {
		return projections.Snapshot{}, false, fmt.Errorf("read snapshot: %w", s.m.fail(err))
	}
	out.Position = position(c, p)
	if err := json.Unmarshal(alerts, &out.Alerts); err != nil {
		return projections.Snapshot{}, false, fmt.Errorf("decode snapshot at %s: %w", out.Boundary.Format(time.RFC3339), err)
	}
	if out.Alerts == nil {
		out.Alerts = map[string]*projections.StreamState{}
	}
	return out, true, nil
}

// Reset implements projections.SnapshotStore.
func (s *Snapshots) Reset(ctx context.Context) error {
	if s.m.isClosed() {
		return fmt.Errorf("reset snapshots: %w", errClosed)
	}
	if _, err := s.m.pool.Exec(ctx, `DELETE FROM rm_snapshots`); err != nil {
		return fmt.Errorf("reset snapshots: %w", s.m.fail(err))
	}
	return nil
}
