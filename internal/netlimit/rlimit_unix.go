//go:build unix

package netlimit

import "syscall"

// NoFile returns the process's soft limit on open descriptors, 0 if unknown.
// Go raises the soft limit to the hard one at start (since Go 1.19), so this
// is normally the hard limit less one.
func NoFile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
