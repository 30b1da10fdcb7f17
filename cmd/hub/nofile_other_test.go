//go:build !unix

package main

import "errors"

func limitNoFile(v string) error {
	if v == "" {
		return nil
	}
	return errors.New("not supported on this system")
}
