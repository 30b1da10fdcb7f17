package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
)

// RebuildNames lists what Rebuild accepts as RebuildOptions.Name: every
// table, the views (alerts, shifts, log, informes, users and the stream
// states they come from), or the audit index.
var RebuildNames = []string{"all", "views", "audit"}

// ErrRebuildRunning is returned when another rebuild of the same schema
// is under way.
var ErrRebuildRunning = errors.New("another rebuild of this read model is running")

// RebuildOptions tunes Rebuild.
type RebuildOptions struct {
	// Name selects the tables to rebuild, one of RebuildNames ("" is
	// "all").
	Name string
	// BatchSize is how many events each transaction applies (default 4096).
	BatchSize int
	// Progress, when set, is called after every batch and once more after
	// the swap (Swapped set).
	Progress func(RebuildProgress)
}

// RebuildProgress is how far a rebuild is.
type RebuildProgress struct {
	// Events is how many events were replayed so far.
	Events int
	// Position is the position of the last one.
	Position eventstore.Position
	// Target is where the rebuild is heading: the live checkpoint, which
	// it must reach before swapping. Zero when unknown (a read model never
	// projected, rebuilt to the end of the log).
	Target eventstore.Position
	// Phase is what the rebuild is doing: "replaying" the log, "indexing"
	// (writing the view rows and building the indexes after the first
	// pass), "swapping" the tables in, or "done".
	Phase string
	// Swapped is set on the last call, once the fresh tables are live.
	Swapped bool
}

// RebuildResult is what a rebuild did.
type RebuildResult struct {
	// Events is how many events were replayed.
	Events int
	// Position is the checkpoint the swapped-in tables reflect.
	Position eventstore.Position
	// Generation counts the rebuilds swapped in, this one included.
	Generation int64
}

// Rebuild replays store's log into fresh tables and swaps them in for the
// live ones, while every instance keeps serving reads from the live
// tables and the active projector keeps applying to them.
//
// When a projector is active (another instance holds the lease), the
// rebuild chases its checkpoint, never passing it; the swap transaction
// locks the live tables, catches the fresh ones up to exactly the live
// checkpoint, drops the live tables and renames the fresh ones into place.
// The checkpoint does not move: the active projector carries on from it,
// nothing is applied twice or skipped, and every change notice is still
// published by the projector that applied it.
//
// When no projector is active, Rebuild holds the lease itself (instances
// starting meanwhile stand by), and an "all" rebuild replays to the end
// of the log and moves the checkpoint there.
func (m *ReadModel) Rebuild(ctx context.Context, store eventstore.Store, opts RebuildOptions) (RebuildResult, error) {
	var res RebuildResult
	if opts.Name == "" {
		opts.Name = "all"
	}
	var bases []string
	switch opts.Name {
	case "all":
		bases = slices.Concat(viewTables, auditTables)
	case "views":
		bases = viewTables
	case "audit":
		bases = auditTables
	default:
		return res, fmt.Errorf("rebuild %q: want one of %s", opts.Name, strings.Join(RebuildNames, ", "))
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 4096
	}
	if m.isClosed() {
		return res, fmt.Errorf("rebuild: %w", errClosed)
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return res, fmt.Errorf("rebuild: %w", err)
	}
	defer conn.Close(context.Background()) // ends the session: releases its locks
	var building, leading bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, m.buildKey).Scan(&building); err != nil {
		return res, fmt.Errorf("rebuild: %w", classify(err))
	}
	if !building {
		return res, fmt.Errorf("rebuild: %w", ErrRebuildRunning)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, m.leadKey).Scan(&leading); err != nil {
		return res, fmt.Errorf("rebuild: %w", classify(err))
	}

	r := &rebuilder{
		m: m, store: store, opts: opts, t: tablesWithSuffix("_rebuild"),
		views: slices.Contains(bases, "rm_streams"), audit: slices.Contains(bases, "rm_audit"),
		cache: map[string]*projections.StreamState{}, fresh: true,
	}
	if err := r.create(ctx, bases); err != nil {
		return res, fmt.Errorf("rebuild: %w", m.fail(err))
	}
	toEnd := leading && r.views && r.audit
	for round := 0; ; round++ {
		target, err := m.Checkpoint(ctx)
		if err != nil {
			return res, fmt.Errorf("rebuild: %w", err)
		}
		r.target = target
		n, err := r.replay(ctx, nil, target, toEnd)
		if err != nil {
			return res, fmt.Errorf("rebuild: %w", err)
		}

		// Chasing a live checkpoint: go round again while the projector
		// moved on by more than a batch meanwhile, so that the swap, which
		// holds the tables, has little left to do.
		if toEnd || n < opts.BatchSize || round >= 50 {
			break
		}
	}
	if leading {
		// The lease must still be ours, or a projector may have started.
		if _, err := conn.Exec(ctx, `SELECT 1`); err != nil {
			return res, fmt.Errorf("rebuild: lost the lease before the swap: %w", classify(err))
		}
	}
	r.report("swapping")
	res, err = r.swap(ctx, bases)
	if err != nil {
		return res, fmt.Errorf("rebuild: swap: %w", m.fail(err))
	}
	if opts.Progress != nil {
		opts.Progress(RebuildProgress{Events: r.events, Position: r.pos, Target: res.Position, Phase: "done", Swapped: true})
	}
	return res, nil
}

// report tells the progress callback, if any, that phase begins.
func (r *rebuilder) report(phase string) {
	if r.opts.Progress != nil {
		r.opts.Progress(RebuildProgress{Events: r.events, Position: r.pos, Target: r.target, Phase: phase})
	}
}

// rebuilder replays the log into the _rebuild tables, keeping every
// stream's state in memory (the fresh tables start empty, so nothing needs
// loading).
type rebuilder struct {
	m            *ReadModel
	store        eventstore.Store
	opts         RebuildOptions
	t            tables
	views, audit bool
	cache        map[string]*projections.StreamState
	pos          eventstore.Position
	target       eventstore.Position
	events       int
	// fresh is true during the first pass, while the fresh tables have no
	// index yet and hold no view row.
	fresh bool
}

// create makes fresh, empty copies of the tables to rebuild, LIKE the
// live ones (columns, defaults, check constraints) but without their
// indexes, which index builds after the bulk load; it drops what a failed
// rebuild left.
func (r *rebuilder) create(ctx context.Context, bases []string) error {
	return pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
		for _, base := range bases {
			fresh := pgx.Identifier{base + "_rebuild"}.Sanitize()
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+fresh); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE `+fresh+` (LIKE `+pgx.Identifier{base}.Sanitize()+` INCLUDING ALL EXCLUDING INDEXES)`); err != nil {
				return err
			}
		}
		return nil
	})
}

// index gives the fresh tables the live ones' indexes and constraints
// (primary keys first: later rounds upsert on them), built in one pass
// over the loaded rows, which is several times faster than maintaining
// them row by row. (Autovacuum analyzes the loaded tables soon after;
// their lookups are by key meanwhile.)
func (r *rebuilder) index(ctx context.Context, bases []string) error {
	return parallel(bases, func(base string) error {
		return r.inTx(ctx, func(tx pgx.Tx) error {
			fresh := pgx.Identifier{base + "_rebuild"}.Sanitize()
			rows, err := tx.Query(ctx, `SELECT pg_get_indexdef(i.indexrelid), COALESCE(pg_get_constraintdef(c.oid), '')
				FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
				WHERE i.indrelid = to_regclass($1)
				ORDER BY i.indisprimary DESC, i.indexrelid`, pgx.Identifier{base}.Sanitize())
			if err != nil {
				return err
			}
			var stmts []string
			for rows.Next() {
				var def, constraint string
				if err := rows.Scan(&def, &constraint); err != nil {
					rows.Close()
					return err
				}
				if constraint != "" {
					stmts = append(stmts, `ALTER TABLE `+fresh+` ADD `+constraint)
					continue
				}
				kind, _, _ := strings.Cut(def, " INDEX ") // "CREATE" or "CREATE UNIQUE"
				_, using, ok := strings.Cut(def, " USING ")
				if !ok {
					rows.Close()
					return fmt.Errorf("index of %s: cannot read %q", base, def)
				}
				stmts = append(stmts, kind+` INDEX ON `+fresh+` USING `+using)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, q := range stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("%s: %w", q, err)
				}
			}
			return nil
		})
	})
}

// replay applies the events after r.pos, up to target unless toEnd, and
// returns how many it applied. It reads the next batch from the store
// while it folds the current one. Audit rows are copied batch by batch;
// the view rows and states only once, at the end, in their final version
// (with COPY the first time, when the fresh tables are empty). With tx
// nil, each write has a transaction of its own; otherwise all go in tx.
func (r *rebuilder) replay(ctx context.Context, tx pgx.Tx, target eventstore.Position, toEnd bool) (int, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A pipeline: one goroutine reads the next batches, another decodes
	// them, this one folds; on two cores, reading and JSON decoding are
	// most of the work.
	type batch struct {
		events  []eventstore.Event
		decoded []domain.Event
	}
	read := make(chan []eventstore.Event, 2)
	batches := make(chan batch, 2)
	var readErr, decodeErr error
	go func() {
		defer close(read)
		at := r.pos
		for {
			evs, err := r.store.ReadAll(readCtx, at, projections.EventFilter(), r.opts.BatchSize)
			if err != nil {
				readErr = fmt.Errorf("read from %s: %w", at, err)
				return
			}
			if !toEnd {
				evs = upTo(evs, target)
			}
			if len(evs) == 0 {
				return
			}
			at = evs[len(evs)-1].Position
			select {
			case read <- evs:
			case <-readCtx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(batches)
		for evs := range read {
			b := batch{events: evs}
			if decodeErr == nil {
				b.decoded = make([]domain.Event, len(evs))
				for i, ev := range evs {
					if b.decoded[i], decodeErr = projections.Decode(ev); decodeErr != nil {
						cancel()
						break
					}
				}
			}
			if decodeErr != nil {
				continue // drain, so the reader ends
			}
			select {
			case batches <- b:
			case <-readCtx.Done():
			}
		}
	}()
	write := func(f func(tx pgx.Tx) error) error {
		if tx != nil {
			return f(tx)
		}
		return r.inTx(ctx, f)
	}
	// Audit rows are written as they come: by a goroutine of their own
	// (Postgres indexes them while this one folds), or in tx when given.
	trails := make(chan *writer, 2)
	trailDone := make(chan error, 1)
	go func() {
		var err error
		for w := range trails {
			if err == nil {
				if err = write(func(tx pgx.Tx) error { return r.flush(ctx, tx, w) }); err != nil {
					cancel() // stop reading and folding
				}
			}
		}
		trailDone <- err
	}()
	views := newWriter(r.t, r.views, false)
	views.changes = false
	total := 0
	var foldErr error
	for b := range batches {
		if r.audit {
			trail := newWriter(r.t, false, true)
			if _, foldErr = trail.applyDecoded(b.events, b.decoded, nil); foldErr != nil {
				break
			}
			trails <- trail
		}
		if r.views {
			if _, foldErr = views.applyDecoded(b.events, b.decoded, r.cache); foldErr != nil {
				break
			}
		}
		total += len(b.events)
		r.events += len(b.events)
		r.pos = b.events[len(b.events)-1].Position
		if r.opts.Progress != nil {
			t := r.target
			if toEnd && r.pos.Compare(t) > 0 {
				t = eventstore.Position{}
			}
			r.opts.Progress(RebuildProgress{Events: r.events, Position: r.pos, Target: t, Phase: "replaying"})
		}
	}
	close(trails)
	trailErr := <-trailDone
	cancel()
	for range batches { // let the reader end
	}
	if trailErr != nil {
		return total, r.m.fail(trailErr)
	}
	if foldErr != nil {
		return total, foldErr
	}
	if readErr != nil {
		return total, readErr
	}
	if decodeErr != nil {
		return total, decodeErr
	}
	if tx == nil && r.fresh {
		if err := r.finishFirstPass(ctx, views); err != nil {
			return total, r.m.fail(err)
		}
		return total, nil
	}
	if total == 0 || !r.views {
		return total, nil
	}
	if err := write(func(tx pgx.Tx) error { return r.flush(ctx, tx, views) }); err != nil {
		return total, r.m.fail(err)
	}
	return total, nil
}

// finishFirstPass ends the bulk load: it indexes the audit table (all its
// rows are in) while it writes the view rows, then indexes the views; so
// Postgres builds indexes while this process renders JSON.
func (r *rebuilder) finishFirstPass(ctx context.Context, views *writer) error {
	r.report("indexing")
	auditDone := make(chan error, 1)
	go func() {
		if !r.audit {
			auditDone <- nil
			return
		}
		auditDone <- r.index(ctx, auditTables)
	}()
	var err error
	if r.views {
		if err = r.copyParallel(ctx, views); err == nil {
			err = r.index(ctx, viewTables)
		}
	}
	err = errors.Join(err, <-auditDone)
	if err == nil {
		r.fresh = false
	}
	return err
}

// inTx runs f in a transaction of its own, which need not wait for its
// commit to reach the disk: a rebuild that fails is run again.
func (r *rebuilder) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		return f(tx)
	})
}

// parallel runs f for every item, two at a time (the machines are small;
// Postgres and this process share them), and returns the first error.
func parallel(items []string, f func(item string) error) error {
	sem := make(chan struct{}, 2)
	errs := make(chan error, len(items))
	for _, it := range items {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- f(it)
		}()
	}
	var first error
	for range items {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// copyParallel writes the first pass's view rows into the fresh tables,
// a table per transaction and two tables at a time: rendering the rows
// (JSON) and Postgres parsing them overlap.
func (r *rebuilder) copyParallel(ctx context.Context, views *writer) error {
	return parallel(views.bases(), func(base string) error {
		return r.inTx(ctx, func(tx pgx.Tx) error { return views.copyTable(ctx, tx, base) })
	})
}

// flush writes what w recorded: with COPY into fresh tables not indexed
// yet (the first pass), else with upserts.
func (r *rebuilder) flush(ctx context.Context, tx pgx.Tx, w *writer) error {
	if r.fresh {
		return w.copy(ctx, tx)
	}
	b, err := w.batch()
	if err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// upTo returns the events positioned at or before target.
func upTo(evs []eventstore.Event, target eventstore.Position) []eventstore.Event {
	for i, ev := range evs {
		if ev.Position.Compare(target) > 0 {
			return evs[:i]
		}
	}
	return evs
}

// swap puts the fresh tables in place of the live ones in one
// transaction.
func (r *rebuilder) swap(ctx context.Context, bases []string) (RebuildResult, error) {
	var res RebuildResult
	err := pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
		locked := []string{"rm_checkpoint"}
		locked = append(locked, bases...)
		// First, before touching anything: wait for the transactions using
		// the live tables (an Apply, reads) and hold off new ones.
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(locked, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		var c, p int64
		if err := tx.QueryRow(ctx, `SELECT commit_position, prepare_position FROM rm_checkpoint`).Scan(&c, &p); err != nil {
			return err
		}
		cp := position(c, p)
		if r.pos.Compare(cp) < 0 {
			r.target = cp
			if _, err := r.replay(ctx, tx, cp, false); err != nil {
				return err
			}
		}
		at := cp
		if r.pos.Compare(cp) > 0 {
			at = r.pos // an "all" rebuild with no projector active
		}
		for _, base := range bases {
			if err := swapTable(ctx, tx, base); err != nil {
				return fmt.Errorf("%s: %w", base, err)
			}
		}
		if c, p, err := columns(at); err != nil {
			return err
		} else if err := tx.QueryRow(ctx, `UPDATE rm_checkpoint SET commit_position = $1, prepare_position = $2,
			generation = generation + 1, updated_at = now() RETURNING generation`, c, p).Scan(&res.Generation); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, r.m.channel, at.String()); err != nil {
			return err
		}
		res.Position = at
		return nil
	})
	res.Events = r.events
	return res, err
}

// swapTable drops base and renames base_rebuild, and its indexes, to take
// its place, so index names stay those the migrations gave.
func swapTable(ctx context.Context, tx pgx.Tx, base string) error {
	was, err := indexNames(ctx, tx, base)
	if err != nil {
		return err
	}
	now, err := indexNames(ctx, tx, base+"_rebuild")
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{base}.Sanitize()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{base + "_rebuild"}.Sanitize()+` RENAME TO `+pgx.Identifier{base}.Sanitize()); err != nil {
		return err
	}
	for def, name := range now {
		if want, ok := was[def]; ok && want != name {
			if _, err := tx.Exec(ctx, `ALTER INDEX `+pgx.Identifier{name}.Sanitize()+` RENAME TO `+pgx.Identifier{want}.Sanitize()); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexNames maps each index of table, by its definition without its own
// and its table's names ("btree (status)", "UNIQUE … btree (id)"), to its
// name.
func indexNames(ctx context.Context, tx pgx.Tx, table string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = to_regclass($1)`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		kind, _, _ := strings.Cut(def, " INDEX ") // "CREATE" or "CREATE UNIQUE"
		_, using, _ := strings.Cut(def, " USING ")
		out[kind+" "+using] = name
	}
	return out, rows.Err()
}
