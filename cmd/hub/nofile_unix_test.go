//go:build unix

package main

import (
	"strconv"
	"syscall"
)

// limitNoFile sets the child hub's descriptor limit, soft and hard (Go
// raises a soft limit to the hard one at start), from HUB_TEST_NOFILE.
func limitNoFile(v string) error {
	if v == "" {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return err
	}
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
}
