package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profile starts a CPU profile for a scenario when --profile-dir is set
// (of the bench's hub while it runs, else of this process), and watches
// how much of the machine other processes take meanwhile.
func (b *bench) profile(scenario string) (stop func()) {
	services := b.o.eventStore != "" && !strings.HasPrefix(b.o.eventStore, "sqlite:") || b.o.readModel != "memory" || b.o.broker != "memory"
	hubPID := 0
	if b.hub != nil {
		hubPID = b.hub.pid()
	}
	c0 := takeCPU(services, hubPID)
	watch := func() {
		c1 := takeCPU(services, hubPID)
		capacity := c1.total - c0.total
		other := (c1.busy - c0.busy) - (c1.ours - c0.ours) - (c1.kernel - c0.kernel)
		if capacity > 0 && float64(other)/float64(capacity) > 0.05 {
			besides := ""
			if services {
				besides = " (besides the Postgres and Redis servers, counted as the bench's)"
			}
			b.note("%s: other processes on this machine used %.0f%% of its CPU meanwhile%s; these numbers understate the hub", scenario, 100*float64(other)/float64(capacity), besides)
		}
	}
	if b.o.profileDir == "" {
		return watch
	}
	path := filepath.Join(b.o.profileDir, scenario+".cpu.pprof")
	var stopProfile func() error
	var err error
	if b.hub != nil {
		stopProfile, err = b.hub.startProfile(path)
	} else {
		stopProfile, err = startProfile(path)
	}
	if err != nil {
		b.note("cpu profile of %s: %v", scenario, err)
		return watch
	}
	return func() {
		if err := stopProfile(); err != nil {
			b.note("cpu profile of %s: %v", scenario, err)
		}
		watch()
	}
}

// startProfile starts a CPU profile of this process into path.
func startProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// cpuSnap is the CPU time the machine and this bench (with its reaped
// child processes, and the bench's hub while it runs) have used so far.
type cpuSnap struct{ busy, total, ours, kernel time.Duration }

// takeCPU reads /proc/stat (all CPUs, in USER_HZ = 100 ticks a second),
// getrusage, and the CPU time of kernel threads (and, with services, of
// the Postgres and Redis servers), and that of the bench's hub (hubPID,
// when not 0: a child not reaped yet). Busy counts user, nice
// and system time only: interrupt time, most of it loopback networking,
// is the bench's own; kernel threads (the file system journal committing
// the store's fsyncs, workqueues) work for whoever asked, mostly the bench,
// so they are left out of "other processes" too.
func takeCPU(services bool, hubPID int) cpuSnap {
	var c cpuSnap
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return c
	}
	var total, busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i < 3 {
			busy += n
		}
	}
	const tick = 10 * time.Millisecond
	c.total, c.busy = time.Duration(total)*tick, time.Duration(busy)*tick
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			c.ours += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if hubPID != 0 {
		d, _ := procCPU(hubPID)
		c.ours += d
	}
	c.kernel = kernelThreadsCPU(services) * tick
	return c
}

// kernelThreadsCPU sums the user and system ticks of kernel threads (the
// children of kthreadd, pid 2) and, when services is set, of the Postgres
// and Redis servers the bench is using (they work for it; so may other
// sessions' tests, which this then misses).
func kernelThreadsCPU(services bool) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum int64
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(raw)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		comm := s[open+1 : end]
		f := strings.Fields(s[end+1:])
		// f[0] is the state, f[1] the parent, f[11] and f[12] user and
		// system time, f[13] and f[14] those of reaped children (the
		// Postgres backends of connections that closed meanwhile).
		if len(f) < 15 {
			continue
		}
		kthread := f[1] == "2" || d.Name() == "2"
		service := services && (comm == "postgres" || comm == "redis-server")
		if !kthread && !service {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// memSample is the hub's memory at one moment, after a GC.
type memSample struct {
	rss        int64 // VmRSS, bytes
	goMem      int64 // heap in use + stacks
	goroutines int
}

// vmRSS reads a process's resident set size from /proc/<pid>/status.
func vmRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// procCPU is the CPU time a live process has used so far (user +
// system), from /proc/<pid>/stat; ok is false when it cannot be read.
func procCPU(pid int) (d time.Duration, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which is in parentheses): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (100 Hz).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// raiseNoFile raises the soft limit on open files towards need, up to the
// hard limit, and says what it could not do.
func raiseNoFile(need uint64) string {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return "RLIMIT_NOFILE: " + err.Error()
	}
	if r.Cur >= need {
		return ""
	}
	want := min(need, r.Max)
	old := r.Cur
	r.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return fmt.Sprintf("RLIMIT_NOFILE: could not raise %d to %d: %v; the largest client counts may fail", old, want, err)
	}
	if want < need {
		return fmt.Sprintf("RLIMIT_NOFILE: hard limit %d is below the %d descriptors wanted; raised the soft limit to it, the largest client counts may fail (raise the hard limit: ulimit -Hn)", r.Max, need)
	}
	return ""
}
