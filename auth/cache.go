package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Defaults of the Service's cache of authenticated credentials.
const (
	// DefaultCacheTTL is how long a session or token the store confirmed
	// may be answered from memory. It is the longest a logout, an
	// EndSessions or a token revocation made through ANOTHER Service
	// sharing the store (another hub of a fleet) can go unnoticed here;
	// through this Service they take effect at once.
	DefaultCacheTTL = time.Second
	// DefaultCacheSize bounds the cache's entries, per kind (sessions,
	// tokens).
	DefaultCacheSize = 10_000
)

// credentialCache remembers the principals of credentials a store has
// just confirmed, keyed by the SHA-256 of the secret (the plaintext is not
// kept). An entry is answered only before both its TTL and the credential's
// own deadline, so an expired session or token is never accepted from it.
//
// Invalidation is by generation: every invalidation bumps gen, and a
// lookup that read the store under an older generation does not fill the
// cache, so a store read that raced a logout cannot put the session back.
type credentialCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	gen     uint64
	entries map[[32]byte]cached
}

// cached is one remembered credential.
type cached struct {
	p Principal
	// until is when the entry stops being answered (confirmed + TTL).
	until time.Time
	// deadline is when the credential itself ends; zero means never.
	deadline time.Time
	// lastSeen is the session's LastSeen as of the store read (sessions
	// only), so that the idle deadline still slides once per
	// TouchInterval.
	lastSeen time.Time
}

// newCredentialCache returns a cache; ttl <= 0 returns nil, which every
// method treats as an always-empty cache.
func newCredentialCache(ttl time.Duration, size int) *credentialCache {
	if ttl <= 0 {
		return nil
	}
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &credentialCache{ttl: ttl, max: size, entries: map[[32]byte]cached{}}
}

func cacheKey(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// get returns the entry for key if it may still be answered at now.
func (c *credentialCache) get(key [32]byte, now time.Time) (cached, bool) {
	if c == nil {
		return cached{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) || (!e.deadline.IsZero() && !now.Before(e.deadline)) {
		return cached{}, false
	}
	return e, true
}

// generation is read before a store lookup and handed to put.
func (c *credentialCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put remembers e, confirmed by the store at now, under key until now +
// TTL, unless an invalidation happened since gen was read. A full cache first drops what has lapsed, and is emptied if
// that is not enough: the bound holds, and the price is a store read per
// credential.
func (c *credentialCache) put(key [32]byte, gen uint64, e cached, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	e.until = now.Add(c.ttl)
	c.entries[key] = e
}

// drop forgets key (a credential the store no longer knows).
func (c *credentialCache) drop(key [32]byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// invalidate forgets key, if given, and every entry match selects, and
// starts a new generation so that lookups already under way do not
// remember what they read.
func (c *credentialCache) invalidate(key *[32]byte, match func(Principal) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if key != nil {
		delete(c.entries, *key)
	}
	if match != nil {
		for k, e := range c.entries {
			if match(e.p) {
				delete(c.entries, k)
			}
		}
	}
}
