// Package sessiontest is the contract suite for the auth ports: Run for
// auth.SessionStore, RunTokenStore for auth.TokenStore and RunLimiter for
// auth.Limiter. Every adapter's tests call them, so the in-memory fakes and
// the durable stores cannot drift apart. Clock is the injectable clock the
// suites drive expiry with; there are no timing assertions.
//
// It imports only package auth and the standard library (including
// testing).
package sessiontest
