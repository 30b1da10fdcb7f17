package bench

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// push connects n WebSocket clients (in a child process), measures the
// hub's memory per idle connection, then edits one alert at a time and
// measures how long each edit takes to reach every client.
func (b *bench) push(ctx context.Context, n int) error {
	doPush, doMem := b.o.scenarios["push"], b.o.scenarios["memory"] && b.hub != nil
	id, err := b.declare(n, fmt.Sprintf("Alerta para %d pantallas", n))
	if err != nil {
		return err
	}
	var before memSample
	if doMem {
		if before, err = b.hub.memory(); err != nil {
			return err
		}
	}
	w, err := b.connectClients(ctx, n)
	if err != nil {
		return err
	}
	defer w.close()
	if doMem {
		if err := b.idleMemory(n, before); err != nil {
			return err
		}
	}
	if !doPush {
		return nil
	}
	return b.pushEdits(ctx, n, id, w)
}

// connectClients starts the WebSocket worker and waits until its n
// clients are connected.
func (b *bench) connectClients(ctx context.Context, n int) (*wsWorkerProc, error) {
	b.progress.start(fmt.Sprintf("push: connecting %s WebSocket clients", fmtInt(int64(n))), nil)
	defer b.progress.finish()
	w, err := startWSWorker(b.stderr, b.childEnv, wsWorkerConfig{
		URL:     "ws://" + b.hostPort + "/ws?topics=alerts",
		Header:  http.Header{"Cookie": {b.cookie}, "Origin": {b.base}},
		Clients: n,
		CPUProfile: func() string {
			if b.o.profileDir == "" {
				return ""
			}
			return filepath.Join(b.o.profileDir, fmt.Sprintf("clients-%d.cpu.pprof", n))
		}(),
	})
	if err != nil {
		return nil, err
	}
	ready, err := w.waitReady(ctx, 60*time.Second+time.Duration(n)*5*time.Millisecond)
	if err == nil && ready.Note != "" {
		b.note("push, %d clients: %s", n, ready.Note)
	}
	if err == nil && ready.Connected < n {
		err = fmt.Errorf("only %d of %d WebSocket clients connected (first error: %s)", ready.Connected, n, ready.FirstErr)
	}
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// idleMemory adds the memory row of n idle connections: the hub's
// memory now, minus before (both after a GC), per connection.
func (b *bench) idleMemory(n int, before memSample) error {
	time.Sleep(500 * time.Millisecond) // hellos written, write buffers back in their pool
	after, err := b.hub.memory()
	if err != nil {
		return err
	}
	perConn := float64(after.rss-before.rss) / float64(n)
	b.rows = append(b.rows, tableRow{scenario: "memory", name: fmt.Sprintf("%s idle WebSockets", fmtInt(int64(n))),
		result: fmt.Sprintf("%.1f KiB/conn", perConn/1024), target: "≤32 KiB per idle connection", verdict: verdict(perConn <= 32*1024)})
	b.note("memory, %s idle WebSockets: VmRSS %s → %s; Go heap+stacks %.1f KiB/conn; %.1f goroutines/conn",
		fmtInt(int64(n)), fmtBytes(before.rss), fmtBytes(after.rss),
		float64(after.goMem-before.goMem)/float64(n)/1024, float64(after.goroutines-before.goroutines)/float64(n))
	return nil
}

// pushEdits edits alert id one edit at a time, each when every client
// has the previous one, for --duration, and adds the push row.
func (b *bench) pushEdits(ctx context.Context, n int, id string, w *wsWorkerProc) error {
	var edits atomic.Int64
	b.progress.start(fmt.Sprintf("push to %s clients", fmtInt(int64(n))), func() string { return fmtInt(edits.Load()) + " edits" })
	etag := `"0"`
	start := time.Now()
	var timeouts int
	var patchLats, waitLats []time.Duration
	for k := 0; (k == 0 || time.Since(start) < b.o.duration) && ctx.Err() == nil; k++ {
		t0 := time.Now()
		res, err := b.do("PATCH", "/api/alerts/"+id, etag, fmt.Sprintf(`{"title":"Aviso %d"}`, k))
		t200 := time.Now()
		patchLats = append(patchLats, t200.Sub(t0))
		if err != nil {
			b.progress.finish()
			return err
		}
		if res.status != 200 {
			b.progress.finish()
			return fmt.Errorf("edit: HTTP %d %s", res.status, res.body)
		}
		etag = res.etag
		key := id + ":" + strings.Trim(etag, `"`)
		if err := w.sent(key, t200); err != nil {
			b.progress.finish()
			return err
		}
		if !w.waitDone(ctx, key, 10*time.Second) {
			timeouts++
		}
		waitLats = append(waitLats, time.Since(t200))
		edits.Add(1)
	}
	elapsed := time.Since(start)
	b.progress.finish()
	rep, err := w.report(ctx)
	if err != nil {
		return err
	}
	if rep.Deliveries == 0 {
		return fmt.Errorf("no change notice reached a client (%d expected)", rep.Expected)
	}
	row := tableRow{scenario: "push", name: fmt.Sprintf("%s clients, %s edits", fmtInt(int64(n)), fmtInt(edits.Load())),
		result: fmtRate(float64(rep.Deliveries)/elapsed.Seconds()) + " deliveries/s",
		p50:    fmtDur(time.Duration(rep.P50)), p95: fmtDur(time.Duration(rep.P95)), p99: fmtDur(time.Duration(rep.P99)), max: fmtDur(time.Duration(rep.Max))}
	switch n {
	case 1000:
		row.target, row.verdict = "p99<25ms", verdict(time.Duration(rep.P99) < 25*time.Millisecond && rep.Deliveries == rep.Expected)
	case 10000:
		row.target, row.verdict = "p99<100ms", verdict(time.Duration(rep.P99) < 100*time.Millisecond && rep.Deliveries == rep.Expected)
	}
	b.rows = append(b.rows, row)
	if rep.Deliveries != rep.Expected || rep.Lost > 0 || timeouts > 0 {
		b.note("push, %d clients: %d of %d deliveries arrived; %d connections closed by the hub %v; %d edits not fully delivered within 10s",
			n, rep.Deliveries, rep.Expected, rep.Lost, rep.CloseCodes, timeouts)
	}
	b.note("push, %d clients: each edit answered in %s (median), then every client had it %s later (median; the parent learns it through a pipe); the client process used %s of CPU",
		n, fmtDur(summarize(patchLats).p50), fmtDur(summarize(waitLats).p50), w.cpu())
	if rep.Early > 0 {
		b.note("push, %d clients: %d deliveries arrived before the edit's HTTP 200 (counted as 0)", n, rep.Early)
	}
	return nil
}
