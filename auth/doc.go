// Package auth owns who may do what in Vigía: roles and their permissions,
// password hashing (argon2id) and password policy, the Principal that every
// request acts as, login sessions, API tokens for scripts and wall displays,
// and login throttling.
//
// It defines three ports, each with a documented contract and adapters in
// subpackages:
//
//   - SessionStore: cookie sessions that survive a restart
//     (sqlite, memory; Redis planned for fleets).
//   - TokenStore: bearer tokens, stored only as hashes (sqlite, memory).
//   - Limiter: failed-login throttling per username and per client IP
//     (memory; Redis planned).
//
// The contract suites every adapter runs live in package sessiontest.
// Service ties the ports together for the web layer (login, logout,
// authenticate a cookie or a bearer token, confirm the current password
// before a change, mint tokens without privilege escalation).
//
// The password policy (ValidatePassword) asks for 12 characters and refuses
// the common passwords embedded from common_passwords.txt (CommonPassword).
//
// Service remembers, for a short time (ServiceConfig.CacheTTL, 1 s by
// default), the sessions and tokens its stores confirmed, so that a burst
// of requests does not read the store once each. Logout, EndSessions and
// RevokeToken through the same Service take effect at once; through another
// hub of a fleet, within CacheTTL. Nothing expired is answered from memory.
//
// Users themselves are event-sourced in domain; auth only sees the fields it
// needs through a small consumer-side interface (see NewService). Errors
// carry English text; the web layer maps them to problem responses and
// translates them for operators.
//
// This package must not import domain, eventstore, projections, realtime or
// web; its only dependencies are the standard library, golang.org/x/crypto
// and github.com/google/uuid (adapters add their drivers).
package auth
