package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
)

// startProbe lets the process that started `hub serve` with
// HUB_PROBE=stdin ask, on the hub's standard input, what only code inside
// the hub can measure: its memory after a GC, and a CPU profile.
// cmd/hub-bench starts the hub it measures this way. Without HUB_PROBE the
// hub does not read its standard input.
//
// One question a line, one answer a line on standard output:
//
//	gc               → probe gc <heap in use + stacks, bytes> <goroutines>
//	                   (after runtime.GC and debug.FreeOSMemory)
//	cpu-start <path> → probe ok (a CPU profile is being written to path)
//	cpu-stop         → probe ok (the profile is complete)
//
// and "probe error <message>" when a question cannot be answered. The
// returned stop ends a profile still running.
func startProbe(getenv env, stdin io.Reader, stdout io.Writer) (stop func()) {
	if getenv("HUB_PROBE") != "stdin" {
		return func() {}
	}
	p := &probe{out: stdout}
	go p.serve(stdin)
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stopCPU()
	}
}

type probe struct {
	out io.Writer
	mu  sync.Mutex
	cpu *os.File // the profile being written, if any
}

func (p *probe) serve(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		fmt.Fprintln(p.out, "probe", p.answer(verb, arg))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopCPU()
}

func (p *probe) answer(verb, arg string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch verb {
	case "gc":
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return fmt.Sprintf("gc %d %d", ms.HeapInuse+ms.StackInuse, runtime.NumGoroutine())
	case "cpu-start":
		if p.cpu != nil {
			return "error a CPU profile is already running"
		}
		f, err := os.Create(arg)
		if err != nil {
			return "error " + err.Error()
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return "error " + err.Error()
		}
		p.cpu = f
		return "ok"
	case "cpu-stop":
		if err := p.stopCPU(); err != nil {
			return "error " + err.Error()
		}
		return "ok"
	}
	return fmt.Sprintf("error unknown question %q", verb)
}

// stopCPU ends the profile being written, if any; p.mu is held.
func (p *probe) stopCPU() error {
	if p.cpu == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.cpu.Close()
	p.cpu = nil
	return err
}
