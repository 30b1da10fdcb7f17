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
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `hub — Vigía, the real-time operations hub of the SENAPRED Valparaíso early-warning centre

Usage:
  hub <command> [flags]

Commands:
  serve          run the hub (HTTP API, live updates, browser UI)
  user add       create a user (admin, supervisor, operator, viewer, display)
  token create   create an API token for a script or a wall display
  projections rebuild [name]
                 replay the log into fresh read-model tables and swap them in
  migrate        apply the Postgres schema migrations (event store, read model)
  help           show this help, or "hub help <command>"
  version        print the version

Run "hub <command> --help" for a command's flags; every flag has a HUB_* environment twin.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		stopProbe := startProbe(getenv, stdin, stdout)
		err = runServe(ctx, rest, getenv, stdout, stderr)
		stopProbe()
	case "user":
		err = runUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "token":
		err = runToken(ctx, rest, getenv, stdout, stderr)
	case "projections":
		err = runProjections(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "bench":
		fmt.Fprint(stderr, "hub: the load generator is its own command now: make bench-hub runs it at its defaults,\nbin/hub-bench --help lists its flags (make build builds it; docs/benchmarks.md)\n")
		return 2
	case "version", "--version":
		fmt.Fprintln(stdout, "hub", version)
	case "help", "-h", "--help":
		if len(rest) > 0 {
			return run(ctx, append(rest, "--help"), getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "hub: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "hub:", err)
	return 1
}

// errUsage marks a command line mistake already reported to the user.
var errUsage = errors.New("usage")

// parseFlags parses a subcommand's flags, printing its help on -h.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, summary string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hub %s [flags]\n\n%s\n\nFlags:\n", fs.Name(), summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hub %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newFlagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }
