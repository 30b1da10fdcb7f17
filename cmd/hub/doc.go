// Command hub is Vigía's one binary: the real-time operations hub of the
// SENAPRED Valparaíso early-warning centre, and its administration commands.
//
// This package is the composition root, and only that. It alone reads
// flags and HUB_* environment variables (a flag overrides its variable,
// config.go), validates the one Config, builds the root zerolog logger,
// chooses the adapters (event store: SQLite, Postgres or EventStoreDB;
// read models: memory or Postgres; broker and sessions: memory or Redis),
// wires the packages together (Main, serve.go) and runs the subcommands:
//
//	serve                      the hub: HTTP API, live updates, browser UI
//	user add                   create a user
//	token create               create an API token for a script or a wall display
//	projections rebuild [name] replay the log into fresh read-model tables, then swap
//	migrate                    apply the Postgres schema migrations
//	help, version
//
// Run `hub help` for the commands and `hub <command> --help` for their
// flags. The load generator is not in this binary: it is cmd/hub-bench
// (package internal/bench), which runs this binary's `hub serve` as a
// child process; `make bench-hub` builds both and runs it. HUB_PROBE=stdin
// (probe.go) is how it reads the memory and CPU profiles of the hub it
// measures.
//
// Business rules, storage and transport live in the packages wired here
// (domain, command, eventstore, projections, realtime, web, auth, ingest);
// nothing here is imported by them.
package main
