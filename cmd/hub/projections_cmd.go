package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/senapred-valparaiso/vigia/internal/storeurl"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/eventstore"
	"github.com/senapred-valparaiso/vigia/projections"
	rmpostgres "github.com/senapred-valparaiso/vigia/projections/postgres"
)

const projectionsUsage = `Usage: hub projections rebuild [flags] [name]

Replays the whole event log into fresh read-model tables and swaps them in
for the live ones in one transaction, while hubs keep serving (reads and the
active projector wait only for the swap). name is what to rebuild:
all (the default), views (alerts, shifts, log, informes, users) or audit.
all also deletes time travel's day snapshots and writes them again.

Only a Postgres read model (HUB_READMODEL=postgres://…) is ever rebuilt
this way. The in-memory read model (HUB_READMODEL=memory, the default) is
rebuilt from the log at every start of hub serve: restarting is its rebuild,
and there is nothing for this command to do.

On a terminal it draws a progress bar with events/s and the time left;
otherwise it logs a line every few seconds.

Flags:
`

// runProjections is `hub projections rebuild [name]`.
func runProjections(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprint(stderr, projectionsUsage[:strings.Index(projectionsUsage, "\n\nFlags:")+1])
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errUsage
	}
	var c Config
	var batch int
	fs := newFlagSet("projections rebuild")
	bindStore(fs, &c, getenv) // --readmodel included
	fs.IntVar(&batch, "batch", 4096, "events per transaction")
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, projectionsUsage)
		fs.PrintDefaults()
	}
	name, err := parseWithArg(fs, args[1:], stderr)
	if err != nil {
		return err
	}
	if name == "" {
		name = "all"
	}
	if !containsName(rmpostgres.RebuildNames, name) {
		fmt.Fprintf(stderr, "hub projections rebuild: unknown name %q (want %s)\n", name, strings.Join(rmpostgres.RebuildNames, ", "))
		return errUsage
	}
	if err := c.validateStore(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch c.readModelKind() {
	case "memory":
		fmt.Fprintln(stdout, "The read model is in memory (HUB_READMODEL=memory): every start of hub serve rebuilds it from the log. Nothing to do.")
		return nil
	case "":
		return fmt.Errorf("configuration: readmodel %q: want memory or postgres://…", storeurl.Redact(c.ReadModel))
	}
	log := newLogger(stderr, c.LogLevel, c.LogFormat)
	store, err := openEventStore(ctx, &c, time.Now)
	if err != nil {
		return err
	}
	defer store.Close()
	model, err := rmpostgres.Open(ctx, c.ReadModel)
	if err != nil {
		return fmt.Errorf("open read model %s: %w", storeurl.Redact(c.ReadModel), err)
	}
	defer model.Close()

	bar := newRebuildBar(stderr, log, time.Now)
	res, err := model.Rebuild(ctx, store, rmpostgres.RebuildOptions{Name: name, BatchSize: batch, Progress: bar.update})
	bar.finish()
	if err != nil {
		return err
	}
	took := bar.elapsed()
	fmt.Fprintf(stdout, "rebuilt %s: %d events in %s (%.0f events/s), at position %s, generation %d\n",
		name, res.Events, took.Round(time.Millisecond), float64(res.Events)/max(took.Seconds(), 1e-9), res.Position, res.Generation)
	if name == "all" {
		return rebuildSnapshots(ctx, store, model, log, stdout)
	}
	return nil
}

// rebuildSnapshots deletes time travel's day snapshots and writes them
// again from the whole log. Hubs that are running go on writing the
// newest ones; every writer of a day writes the same snapshot.
func rebuildSnapshots(ctx context.Context, store eventstore.Store, model *rmpostgres.ReadModel, log zerolog.Logger, stdout io.Writer) error {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	h := projections.NewHistory(store, model.Snapshots(), loc, log)
	if err := h.ResetSnapshots(ctx); err != nil {
		return err
	}
	start := time.Now()
	events, snaps, err := h.CatchUp(ctx)
	if err != nil {
		return fmt.Errorf("rebuild snapshots: %w", err)
	}
	fmt.Fprintf(stdout, "rebuilt snapshots: %d day snapshots from %d events in %s\n", snaps, events, time.Since(start).Round(time.Millisecond))
	return nil
}

// runMigrate is `hub migrate`: it applies the schema migrations of the
// Postgres event store and read model that HUB_EVENTSTORE and
// HUB_READMODEL name (opening them does it), so a rollout can migrate
// before the new hubs start. The embedded store migrates itself when
// opened.
func runMigrate(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	var c Config
	fs := newFlagSet("migrate")
	bindStore(fs, &c, getenv) // --readmodel included
	if err := parseFlags(fs, args, stderr, "Applies the schema migrations the Postgres event store and read model lack\n(versioned, each once, under an advisory lock), then exits. hub serve applies\nthem too when it starts; this lets a rollout migrate first."); err != nil {
		return err
	}
	if err := c.validateStore(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if c.readModelKind() == "" {
		return fmt.Errorf("configuration: readmodel %q: want memory or postgres://…", storeurl.Redact(c.ReadModel))
	}
	store, err := openEventStore(ctx, &c, time.Now)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "event store (%s): schema up to date\n", c.eventStoreKind())
	if c.readModelKind() != "postgres" {
		fmt.Fprintln(stdout, "read model (memory): no schema")
		return nil
	}
	model, err := rmpostgres.Open(ctx, c.ReadModel)
	if err != nil {
		return fmt.Errorf("open read model %s: %w", storeurl.Redact(c.ReadModel), err)
	}
	if err := model.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "read model (postgres): schema up to date")
	return nil
}

// parseWithArg parses flags around at most one positional argument, which
// it returns ("" when absent): `rebuild views --batch 100` and `rebuild
// --batch 100 views` both work.
func parseWithArg(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	parse := func(args []string) error {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		return nil
	}
	if err := parse(args); err != nil {
		return "", err
	}
	arg := fs.Arg(0)
	if fs.NArg() > 1 {
		if err := parse(fs.Args()[1:]); err != nil {
			return "", err
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "hub %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
			return "", errUsage
		}
	}
	return arg, nil
}

// containsName reports whether list holds s.
func containsName(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rebuildBar reports a rebuild: a one-line bar redrawn in place on a
// terminal, or a log line every few seconds elsewhere (a pipe, a CI log,
// journald), where carriage returns only make noise.
//
// It is a few lines rather than a dependency (progressbar/v3 is
// available): the bar needs one line, a rate and an estimate, and the
// estimate is specific to rebuilds — it comes from positions, not from a
// count of events, which the event store port does not offer.
type rebuildBar struct {
	w     io.Writer
	tty   bool
	log   zerolog.Logger
	now   func() time.Time
	start time.Time
	last  time.Time
	drawn bool
	phase string
	first eventstore.Position
	end   time.Time
}

func newRebuildBar(w io.Writer, log zerolog.Logger, now func() time.Time) *rebuildBar {
	return &rebuildBar{w: w, tty: isTerminal(w), log: log, now: now, start: now()}
}

// update takes a rebuild's progress report.
func (p *rebuildBar) update(r rmpostgres.RebuildProgress) {
	now := p.now()
	if p.first.IsZero() {
		p.first = r.Position
	}
	every := 2 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	phaseChanged := r.Phase != p.phase
	p.phase = r.Phase
	if !r.Swapped && !phaseChanged && now.Sub(p.last) < every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := float64(r.Events) / max(elapsed.Seconds(), 1e-9)
	frac, eta := rebuildEstimate(r, p.first, elapsed)
	if r.Swapped || (r.Phase != "replaying" && r.Phase != "") {
		frac, eta = 1, 0 // the replay is done; what is left is short
	}
	if !p.tty {
		ev := p.log.Info().Str("phase", r.Phase).Int("events", r.Events).Str("position", r.Position.String()).Float64("events_per_s", float64(int(rate)))
		if frac >= 0 {
			ev = ev.Str("target", r.Target.String()).Int("percent", int(frac*100)).Str("eta", eta.Round(time.Second).String())
		}
		if r.Swapped {
			ev.Msg("rebuilt tables swapped in")
		} else {
			ev.Msg("rebuilding read model")
		}
		return
	}
	const width = 30
	bar, pct, left := strings.Repeat("·", width), "  ?%", "ETA ?"
	if frac >= 0 {
		n := int(frac * width)
		bar = strings.Repeat("█", n) + strings.Repeat("·", width-n)
		pct, left = fmt.Sprintf("%3d%%", int(frac*100)), "ETA "+eta.Round(time.Second).String()
	}
	switch {
	case r.Swapped:
		left = "done"
	case r.Phase != "replaying" && r.Phase != "":
		left = r.Phase + "…"
	}
	fmt.Fprintf(p.w, "\r%s %s  %d events  %s events/s  %-12s", bar, pct, r.Events, rebuildRate(rate), left)
	p.drawn = true
}

// rebuildEstimate returns how far the rebuild is (0 to 1, or -1 when the target
// is unknown) and the time left, from the positions covered so far:
// positions grow with the log, so they measure the distance even though
// not every position is an event the read model projects.
func rebuildEstimate(r rmpostgres.RebuildProgress, first eventstore.Position, elapsed time.Duration) (float64, time.Duration) {
	if r.Target.IsZero() || r.Target.Commit < r.Position.Commit {
		return -1, 0
	}
	frac := float64(r.Position.Commit) / float64(r.Target.Commit)
	done := float64(r.Position.Commit) - float64(first.Commit)
	if done <= 0 {
		return frac, 0
	}
	left := float64(r.Target.Commit - r.Position.Commit)
	return frac, time.Duration(left / done * float64(elapsed))
}

// rebuildRate writes an events/s rate short: 850, 38.2k.
func rebuildRate(r float64) string {
	if r >= 1000 {
		return fmt.Sprintf("%.1fk", r/1000)
	}
	return fmt.Sprintf("%.0f", r)
}

// finish ends the bar's line.
func (p *rebuildBar) finish() {
	p.end = p.now()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}

// elapsed is how long the rebuild took.
func (p *rebuildBar) elapsed() time.Duration {
	if p.end.IsZero() {
		return p.now().Sub(p.start)
	}
	return p.end.Sub(p.start)
}
