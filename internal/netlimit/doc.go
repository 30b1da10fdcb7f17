// Package netlimit wraps the hub's TCP listener so that running out of file
// descriptors, or one address opening thousands of connections, cannot stop
// the hub from serving.
//
// fasthttp's Serve (under Fiber) returns for good on any accept error that is
// not a timeout, EMFILE ("too many open files") included: the process stays
// up with its port bound and nothing accepts again. Listener.Accept retries
// temporary errors instead, with a backoff from 5 ms doubling to 1 s (as
// net/http does), logging once per burst, and closes at once any connection
// over the total or per-address cap, so those caps, set below the descriptor
// limit, keep descriptors for the hub's own files and pools.
//
// It imports nothing of ours.
package netlimit
