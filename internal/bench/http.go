package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/senapred-valparaiso/vigia/domain"
)

// sessionCookie is the name of the hub's session cookie (web.SessionCookie).
// The bench talks to the hub as a browser does, over HTTP, and imports no
// transport package: only cmd/hub depends on web (internal/archtest).
const sessionCookie = "vigia_session"

// httpResult is what the bench needs of one answer.
type httpResult struct {
	status int
	etag   string
	body   []byte
}

// do sends one request as the bench user and returns the answer.
func (b *bench) do(method, path, ifMatch, body string) (httpResult, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(b.base + path)
	req.Header.SetMethod(method)
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	if err := b.http.Do(req, resp); err != nil {
		return httpResult{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return httpResult{status: resp.StatusCode(), etag: string(resp.Header.Peek("ETag")), body: slices.Clone(resp.Body())}, nil
}

func (b *bench) login() (string, error) {
	body, _ := json.Marshal(map[string]string{"username": b.user, "password": b.password})
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(b.base + "/api/auth/login")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := b.http.DoTimeout(req, resp, 30*time.Second); err != nil {
		return "", fmt.Errorf("log in to %s: %w", b.base, err)
	}
	if resp.StatusCode() != 200 {
		return "", fmt.Errorf("log in to %s as %s: HTTP %d %s", b.base, b.user, resp.StatusCode(), resp.Body())
	}
	var ck fasthttp.Cookie
	ck.SetKey(sessionCookie)
	if !resp.Header.Cookie(&ck) {
		return "", fmt.Errorf("log in to %s: no session cookie", b.base)
	}
	return sessionCookie + "=" + string(ck.Value()), nil
}

// declare creates an alert and returns its ID.
func (b *bench) declare(i int, title string) (string, error) {
	provs := domain.Provincias()
	var scope string
	switch p := provs[i%len(provs)]; i % 3 {
	case 0:
		scope = `"region":true`
	case 1:
		scope = `"provincias":["` + p.Code + `"]`
	default:
		codes := make([]string, 0, len(p.Comunas))
		for _, c := range p.Comunas {
			codes = append(codes, `"`+c.Code+`"`)
		}
		scope = `"comunas":[` + strings.Join(codes, ",") + `]`
	}
	hazards := domain.Hazards()
	body := fmt.Sprintf(`{"hazard":%q,"level":"amarilla","title":%q,"description":"Alerta de prueba de carga: el tiempo pronosticado para la zona indicada exige preparación de los equipos de respuesta.",%s}`,
		hazards[i%len(hazards)], title, scope)
	r, err := b.do("POST", "/api/alerts", "", body)
	if err != nil {
		return "", err
	}
	if r.status != 201 {
		return "", fmt.Errorf("declare an alert: HTTP %d %s", r.status, r.body)
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &a); err != nil {
		return "", fmt.Errorf("declare an alert: %w", err)
	}
	return a.ID, nil
}

// --- reads ---

func (b *bench) reads(ctx context.Context) error {
	b.progress.start("reads: declaring alerts", nil)
	for i := range b.o.alerts {
		if _, err := b.declare(i, fmt.Sprintf("Alerta de lectura %d", i+1)); err != nil {
			b.progress.finish()
			return err
		}
	}
	b.progress.finish()
	c := b.o.readConcurrency
	name := fmt.Sprintf("GET /api/alerts, c=%d", c)
	var done, failed, size atomic.Int64
	lats := make([][]time.Duration, c)
	var firstErr firstError
	// Warm up: every connection opened, then timed from a common start.
	var ready, wg sync.WaitGroup
	gate := make(chan struct{})
	var deadline time.Time
	for i := range c {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(b.base + "/api/alerts")
			req.Header.Set("Cookie", b.cookie)
			err := b.http.Do(req, resp)
			size.Store(int64(len(resp.Body())))
			ready.Done()
			if err != nil {
				firstErr.set(err)
				return
			}
			<-gate
			l := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := b.http.Do(req, resp)
				d := time.Since(t0)
				if err != nil || resp.StatusCode() != 200 || len(resp.Body()) == 0 {
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("HTTP %d", resp.StatusCode())
					}
					firstErr.set(err)
					continue
				}
				l = append(l, d)
				done.Add(1)
			}
			lats[i] = l
		}()
	}
	ready.Wait()
	if err := firstErr.get(); err != nil {
		close(gate)
		wg.Wait()
		return fmt.Errorf("warm-up: %w", err)
	}
	b.progress.start("reads", func() string { return fmtInt(done.Load()) + " requests" })
	start := time.Now()
	deadline = start.Add(b.o.duration)
	close(gate)
	wg.Wait()
	elapsed := time.Since(start)
	b.progress.finish()
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return fmt.Errorf("no successful request: %v", firstErr.get())
	}
	s := summarize(all)
	rate := float64(len(all)) / elapsed.Seconds()
	row := tableRow{scenario: "reads", name: name, result: fmtRate(rate) + " req/s",
		p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "≥20,000 req/s, p99<50ms at c=500"}
	if c == 500 {
		row.verdict = verdict(rate >= 20000 && s.p99 < 50*time.Millisecond)
	}
	b.rows = append(b.rows, row)
	b.note("reads: each answer carried %.1f KB of JSON", float64(size.Load())/1000)
	if n := failed.Load(); n > 0 {
		b.note("reads: %d requests failed (first: %v)", n, firstErr.get())
	}
	return nil
}

// --- edits ---

func (b *bench) edits(ctx context.Context) error {
	n := b.o.operators
	b.progress.start("edits: declaring alerts", nil)
	ids := make([]string, n+1)
	for i := range ids {
		id, err := b.declare(i, fmt.Sprintf("Alerta de edición %d", i+1))
		if err != nil {
			b.progress.finish()
			return err
		}
		ids[i] = id
	}
	b.progress.finish()

	// Distinct alerts: no operator ever conflicts.
	var done atomic.Int64
	res := b.editLoop(ctx, "edits", n, &done, func(i int) string { return ids[i] })
	if res.err != nil {
		return res.err
	}
	rate := float64(res.ok) / res.elapsed.Seconds()
	s := summarize(res.lats)
	b.rows = append(b.rows, tableRow{scenario: "edits", name: fmt.Sprintf("PATCH, %d operators, own alerts", n),
		result: fmtRate(rate) + " cmd/s", p50: fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "≥5,000 acknowledged edits/s with 50 operators"})
	if n == 50 {
		b.rows[len(b.rows)-1].verdict = verdict(rate >= 5000)
	}
	if res.other > 0 || res.stale > 0 {
		b.note("edits on own alerts: %d unexpected 412s%s", res.stale, failures(res))
	}

	// One contended alert: everyone edits it; a 412 gives the current ETag.
	done.Store(0)
	res = b.editLoop(ctx, "edits (contended)", n, &done, func(int) string { return ids[n] })
	if res.err != nil {
		return res.err
	}
	attempts := res.ok + res.stale
	if attempts == 0 {
		return errors.New("contended alert: no answer")
	}
	s = summarize(res.lats)
	b.rows = append(b.rows, tableRow{scenario: "edits", name: fmt.Sprintf("PATCH, %d operators, one alert", n),
		result: fmt.Sprintf("412 rate %.1f%% of %s", 100*float64(res.stale)/float64(attempts), fmtInt(int64(attempts))),
		p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max)})
	b.note("edits on one alert: %s edits/s accepted, %d 412s%s", fmtRate(float64(res.ok)/res.elapsed.Seconds()), res.stale, failures(res))
	return b.novedades(ctx)
}

// logWriters is how many operators write novedades to one day's log at
// once in the edits scenario (issue 14 item 15: six got 42 "busy" 409s
// in 1,780).
const logWriters = 6

// novedades has logWriters operators POST novedades to today's log for
// the duration: each append conflicts with the others' at the stream, and
// none may be answered 409 (the command layer retries them).
func (b *bench) novedades(ctx context.Context) error {
	type writer struct {
		lats            []time.Duration
		ok, busy, other int
		firstOther      string
	}
	ws := make([]writer, logWriters)
	var done atomic.Int64
	b.progress.start("edits (novedades)", func() string { return fmtInt(done.Load()) + " novedades" })
	start := time.Now()
	deadline := start.Add(b.o.duration)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Go(func() {
			w := &ws[i]
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				t0 := time.Now()
				res, err := b.do("POST", "/api/log", "", fmt.Sprintf(`{"text":"Novedad de carga %d.%d","category":"novedad"}`, i, k))
				d := time.Since(t0)
				switch {
				case err == nil && res.status == 201:
					w.ok++
					done.Add(1)
					w.lats = append(w.lats, d)
				case err == nil && res.status == 409:
					w.busy++
				default:
					w.other++
					if w.firstOther == "" {
						w.firstOther = fmt.Sprint(err)
						if err == nil {
							w.firstOther = fmt.Sprintf("HTTP %d %s", res.status, res.body)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.progress.finish()
	var all writer
	for _, w := range ws {
		all.lats = append(all.lats, w.lats...)
		all.ok, all.busy, all.other = all.ok+w.ok, all.busy+w.busy, all.other+w.other
		if all.firstOther == "" {
			all.firstOther = w.firstOther
		}
	}
	if all.ok == 0 {
		return fmt.Errorf("novedades: none accepted (first failure: %s)", all.firstOther)
	}
	s := summarize(all.lats)
	b.rows = append(b.rows, tableRow{scenario: "edits", name: fmt.Sprintf("POST /api/log, %d writers, one day", logWriters),
		result: fmt.Sprintf("%s cmd/s, %d × 409 of %s", fmtRate(float64(all.ok)/elapsed.Seconds()), all.busy, fmtInt(int64(all.ok+all.busy+all.other))),
		p50:    fmtDur(s.p50), p95: fmtDur(s.p95), p99: fmtDur(s.p99), max: fmtDur(s.max),
		target: "no 409", verdict: verdict(all.busy == 0)})
	if all.other > 0 {
		b.note("novedades on one day: %d other failures (first: %s)", all.other, all.firstOther)
	}
	return nil
}

func failures(r editResult) string {
	if r.other == 0 {
		return ""
	}
	return fmt.Sprintf(", %d other failures (first: %s)", r.other, r.firstOther)
}

type editResult struct {
	lats             []time.Duration
	ok, stale, other int
	firstOther       string
	elapsed          time.Duration
	err              error
}

// editLoop runs n operators for the duration, each PATCHing the alert
// alertOf(i) with the version it last saw (re-read from the ETag of a 412).
func (b *bench) editLoop(ctx context.Context, label string, n int, done *atomic.Int64, alertOf func(int) string) editResult {
	results := make([]editResult, n)
	var wg sync.WaitGroup
	b.progress.start(label, func() string { return fmtInt(done.Load()) + " edits" })
	start := time.Now()
	deadline := start.Add(b.o.duration)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			id := alertOf(i)
			cur, err := b.do("GET", "/api/alerts/"+id, "", "")
			if err != nil || cur.status != 200 {
				r.err = fmt.Errorf("read alert %s: %v %d", id, err, cur.status)
				return
			}
			etag := cur.etag
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				t0 := time.Now()
				res, err := b.do("PATCH", "/api/alerts/"+id, etag, fmt.Sprintf(`{"title":"Edición %d.%d","reason":"prueba de carga"}`, i, k))
				d := time.Since(t0)
				switch {
				case err != nil:
					r.other++
					r.firstOther = err.Error()
					continue
				case res.status == 200:
					r.ok++
					done.Add(1)
				case res.status == 412:
					r.stale++
				default:
					r.other++
					if r.firstOther == "" {
						r.firstOther = fmt.Sprintf("HTTP %d %s", res.status, res.body)
					}
					continue
				}
				r.lats = append(r.lats, d)
				etag = res.etag
			}
		}()
	}
	wg.Wait()
	out := editResult{elapsed: time.Since(start)}
	b.progress.finish()
	for _, r := range results {
		if r.err != nil && out.err == nil {
			out.err = r.err
		}
		out.lats = append(out.lats, r.lats...)
		out.ok += r.ok
		out.stale += r.stale
		out.other += r.other
		if out.firstOther == "" {
			out.firstOther = r.firstOther
		}
	}
	if out.ok == 0 && out.err == nil {
		out.err = fmt.Errorf("no edit accepted (first failure: %s)", out.firstOther)
	}
	return out
}

// --- push and memory ---
