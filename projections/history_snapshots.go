package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
)

// snapshotter follows the log and writes a Snapshot at every day boundary
// it passes: it keeps the states of the alerts in force, and when an event
// is recorded after a midnight that every event before it precedes (or
// meets), it stores those states with the position of the event before.
type snapshotter struct {
	h      *History
	alerts map[string]*StreamState
	pos    eventstore.Position // the last event folded
	last   time.Time           // the latest RecordedAt folded (or the resumed boundary)
	taken  time.Time           // the boundary of the latest snapshot stored
	wrote  int
}

// newSnapshotter resumes from the latest stored snapshot of the current
// version, or starts from the empty log.
func (h *History) newSnapshotter(ctx context.Context) (*snapshotter, error) {
	sn := &snapshotter{h: h, alerts: map[string]*StreamState{}}
	snap, ok, err := h.snaps.Latest(ctx, SnapshotVersion)
	if err != nil {
		return nil, fmt.Errorf("latest snapshot: %w", err)
	}
	if ok {
		if snap.Alerts != nil {
			sn.alerts = snap.Alerts
		}
		sn.pos, sn.last, sn.taken = snap.Position, snap.Boundary, snap.Boundary
	}
	return sn, nil
}

// add takes the next event of the log (events at or before the position
// already folded are skipped: delivery is at-least-once).
func (sn *snapshotter) add(ctx context.Context, ev *eventstore.Event) error {
	if !sn.pos.IsZero() && ev.Position.Compare(sn.pos) <= 0 {
		return nil
	}
	if !sn.pos.IsZero() {
		if b := sn.h.BoundaryBefore(ev.RecordedAt); !b.Before(sn.last) && b.After(sn.taken) {
			if err := sn.h.snaps.Put(ctx, Snapshot{Version: SnapshotVersion, Boundary: b, Position: sn.pos, Alerts: sn.alerts}); err != nil {
				return fmt.Errorf("snapshot at %s: %w", b.Format(time.RFC3339), err)
			}
			sn.taken = b
			sn.wrote++
		}
	}
	if strings.HasPrefix(ev.Stream, domain.AlertPrefix) {
		st := sn.alerts[ev.Stream]
		if st == nil {
			loaded, err := sn.h.loadAlert(ctx, ev)
			if err != nil {
				return err
			}
			st = loaded
			if st == nil {
				st = &StreamState{}
			}
		}
		e, err := Decode(*ev)
		if err != nil {
			return err
		}
		st.Apply(*ev, e)
		if st.Alert != nil && st.Alert.Alert.Status == domain.StatusCancelada {
			delete(sn.alerts, ev.Stream)
		} else {
			sn.alerts[ev.Stream] = st
		}
	}
	sn.pos = ev.Position
	if ev.RecordedAt.After(sn.last) {
		sn.last = ev.RecordedAt
	}
	return nil
}

// CatchUp brings the snapshots up to the end of the log: it resumes from
// the latest snapshot, reads every later event and writes a snapshot at
// each day boundary it passes. It returns how many events it read and how
// many snapshots it wrote. Without a SnapshotStore it does nothing.
func (h *History) CatchUp(ctx context.Context) (events, snapshots int, err error) {
	if h.snaps == nil {
		return 0, 0, nil
	}
	sn, err := h.newSnapshotter(ctx)
	if err != nil {
		return 0, 0, err
	}
	for {
		evs, err := h.store.ReadAll(ctx, sn.pos, EventFilter(), maxPage)
		if err != nil {
			return events, sn.wrote, fmt.Errorf("snapshots from %s: %w", sn.pos, err)
		}
		for i := range evs {
			if err := sn.add(ctx, &evs[i]); err != nil {
				return events, sn.wrote, err
			}
		}
		events += len(evs)
		if len(evs) < maxPage {
			return events, sn.wrote, nil
		}
	}
}

// Run keeps the snapshots up to date until ctx ends: it follows the log
// (catch-up, then live) from the latest snapshot and writes one at every
// day boundary the log passes, resubscribing with backoff when the store
// or the snapshot store fails. Without a SnapshotStore it only waits. It
// returns ctx's error.
//
// Every hub of a fleet may run it: they write the same snapshots, and the
// store keeps the first.
func (h *History) Run(ctx context.Context) error {
	if h.snaps == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	backoff := minBackoff
	for {
		err := h.follow(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Error().Err(err).Dur("retry_in", backoff).Msg("snapshots interrupted")
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (h *History) follow(ctx context.Context) error {
	sn, err := h.newSnapshotter(ctx)
	if err != nil {
		return err
	}
	sub, err := h.store.Subscribe(ctx, sn.pos, EventFilter())
	if err != nil {
		return fmt.Errorf("subscribe from %s: %w", sn.pos, err)
	}
	defer sub.Close()
	h.log.Info().Str("position", sn.pos.String()).Msg("snapshots following the log")
	for ev := range sub.Events() {
		if err := sn.add(ctx, &ev); err != nil {
			return err
		}
	}
	if err := sub.Err(); err != nil {
		return err
	}
	return fmt.Errorf("subscription ended")
}

// ResetSnapshots deletes every stored snapshot; the next CatchUp or Run
// writes them again from the start of the log.
func (h *History) ResetSnapshots(ctx context.Context) error {
	if h.snaps == nil {
		return nil
	}
	return h.snaps.Reset(ctx)
}
