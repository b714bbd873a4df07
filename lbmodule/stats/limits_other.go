//go:build !unix

package stats

// openFileLimit is unknown outside Unix.
func openFileLimit() (uint64, bool) { return 0, false }
