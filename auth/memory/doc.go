// Package memory holds in-process adapters of the auth ports: SessionStore,
// TokenStore and Limiter. They keep nothing across a restart and are meant
// for tests and for the single-instance embedded mode (the Limiter). Like
// the durable adapters they key secrets by auth.HashSecret and never hold
// a plaintext session ID or token.
//
// It imports only package auth and the standard library.
package memory
