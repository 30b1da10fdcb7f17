// Package web is the hub's HTTP face: the Fiber app, its middleware (request
// IDs, logging, authentication, roles), one handler file per resource, the
// error handler that turns every error into an RFC 9457 problem, the /ws
// upgrade and the embedded browser UI.
//
// Handlers never append events themselves: every change goes through
// package command (load → Decide → Append with the expected revision) and
// every read comes from a read model. A write answers only once the read
// model has applied it (bounded wait), so a read after a write sees it.
//
// It may import command, projections, auth, realtime, domain and
// eventstore; nothing imports web but cmd/hub.
package web
