//go:build !linux

package l4proxy

import (
	"errors"
	"syscall"
)

// bindTransparent fails: transparent proxying is Linux's IP_TRANSPARENT.
func bindTransparent(string, string, syscall.RawConn) error {
	return errors.New("usesrc needs Linux")
}
