// Package bench is hub-bench, Vigía's load generator (cmd/hub-bench is its
// command line). It measures a hub the way operators and wall displays use
// it (HTTP reads and edits, WebSocket push, idle connections, informe
// uploads) and the store and read model underneath (raw appends, rebuild,
// time travel), and prints one table; docs/benchmarks.md has the numbers.
//
// The hub it measures is a separate process: its own `hub serve` child
// (hub.go; started with HUB_PROBE=stdin so that it can be asked for its
// memory after a GC and for CPU profiles), or a running hub on this
// machine (--target). The WebSocket clients run in another child process
// (this binary again, as `hub-bench --ws-worker`, wsworker.go): so that
// their memory does not count as the hub's when measuring resident memory
// per connection, and so that 10,000 clients and the hub's 10,000 server
// ends do not share one file descriptor limit. Push latency is the
// child's arrival time (wall clock) minus the parent's time of the HTTP
// 200; both read the same system clock.
//
// Files by concern: bench.go (flags, the driver), hub.go (the hub child),
// http.go (client, reads, edits), push.go (push and memory), intake.go
// (informe uploads), wsworker.go
// (the WebSocket client process), store.go (appends, rebuild), history.go
// (the generated year, time travel), procstat.go (/proc sampling, CPU
// profiles), report.go (the table, progress).
//
// It imports the domain, the event store adapters and projections to
// generate load and replay it; nothing imports it but cmd/hub-bench. It
// imports neither web nor cmd/hub: the hub is measured from outside, over
// HTTP and WebSocket, as the production binary.
package bench
