//go:build unix

package stats

import "syscall"

// openFileLimit is the process's limit of open files (HAProxy's
// ulimit-n).
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
