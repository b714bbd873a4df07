package haproxyadapter

import (
	"bytes"
	"os"
)

// isDir reports whether path names a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// pemHasKey reports whether the PEM file at path contains a private key. A
// file that cannot be read counts as having one, so that Caddy reports the
// missing file itself when it loads the certificate.
func pemHasKey(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	return bytes.Contains(data, []byte("PRIVATE KEY-----"))
}
