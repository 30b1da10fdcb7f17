// Package sqlite holds the durable, embedded adapters of the auth ports:
// SessionStore and TokenStore, in one SQLite file (by default
// <data dir>/sessions.db) opened with modernc.org/sqlite in WAL mode with
// synchronous=FULL, so that sessions and tokens survive a restart or a
// crash. Only auth.HashSecret of a session ID or token is written.
//
// The pool keeps a fixed number of connections open, and the statements
// of the request path (session lookup and touch, token lookup) are
// prepared once, not parsed per request.
//
// Expired rows are invisible at once and deleted by DB.Prune, which Open
// and every session Create run; a long-running process may also call it
// periodically.
//
// It imports only package auth, the standard library and the driver.
package sqlite
