package bench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// --- output ---

func (b *bench) print(mode string) {
	fmt.Fprintf(b.stdout, "hub-bench — %s\n", mode)
	fmt.Fprintf(b.stdout, "%d CPUs (GOMAXPROCS %d), %s, %v per timed case, %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), b.o.duration, time.Now().UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(b.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tCASE\tRESULT\tP50\tP95\tP99\tMAX\tTARGET\tVERDICT")
	order := map[string]int{}
	for i, s := range scenarioOrder {
		order[s] = i
	}
	rows := slices.Clone(b.rows)
	slices.SortStableFunc(rows, func(x, y tableRow) int { return order[x.scenario] - order[y.scenario] })
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.scenario, dash(r.name), dash(r.result),
			dash(r.p50), dash(r.p95), dash(r.p99), dash(r.max), dash(r.target), dash(r.verdict))
	}
	_ = tw.Flush()
	if len(b.notes) > 0 {
		fmt.Fprintln(b.stdout)
		for _, n := range b.notes {
			fmt.Fprintln(b.stdout, "note:", n)
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}

// latencyStats are the percentiles of a sample.
type latencyStats struct{ p50, p95, p99, max time.Duration }

func summarize(d []time.Duration) latencyStats {
	if len(d) == 0 {
		return latencyStats{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return latencyStats{p50: at(0.50), p95: at(0.95), p99: at(0.99), max: d[len(d)-1]}
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

func fmtRate(r float64) string {
	if r < 100 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return fmtInt(int64(math.Round(r)))
}

// fmtInt prints n with thousands separators.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fmtBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// firstError keeps the first of many goroutines' errors.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// progress shows what the bench is doing: a line rewritten in place on a
// terminal, a plain line per step otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	stop chan struct{}
	done chan struct{}
}

func (p *progress) start(label string, status func() string) {
	p.finish()
	if !p.tty {
		fmt.Fprintf(p.w, "bench: %s\n", label)
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		begin := time.Now()
		for {
			select {
			case <-stop:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				s := ""
				if status != nil {
					s = status()
				}
				fmt.Fprintf(p.w, "\r\033[Kbench: %s  %.1fs  %s", label, time.Since(begin).Seconds(), s)
			}
		}
	}(p.stop, p.done)
}

func (p *progress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop, p.done = nil, nil
}

// --- history (time travel) ---

// isTerminal reports whether w is a terminal (then progress redraws a line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
