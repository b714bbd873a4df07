//go:build !linux

package source

import (
	"errors"
	"syscall"
)

// Control fails: transparent proxying is Linux's IP_TRANSPARENT.
func Control(string, string, syscall.RawConn) error {
	return errors.New("usesrc needs Linux")
}
