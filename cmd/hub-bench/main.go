// Command hub-bench is Vigía's load generator: it measures a hub the way
// operators and wall displays use it, and the store and read model under
// it, and prints one table (docs/benchmarks.md). It lives outside the hub
// binary; the hub it measures is that binary's `hub serve`, run as a child
// process (--hub, by default the hub next to this binary). The work is in
// internal/bench; this command only reads the environment and exits.
//
// Run `hub-bench --help` for the scenarios and flags, or `make bench-hub`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the centre's time zone must resolve on any machine

	"github.com/senapred-valparaiso/vigia/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return exitCode(runWith(ctx, args, getenv, stdin, stdout, stderr, nil), stderr)
}

func runWith(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, childEnv []string) error {
	m := &bench.Main{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr, ChildEnv: childEnv}
	return m.Run(ctx, args)
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, bench.ErrUsage):
		return 2
	}
	fmt.Fprintln(stderr, "hub-bench:", err)
	return 1
}
