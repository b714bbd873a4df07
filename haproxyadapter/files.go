package haproxyadapter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxReadFile bounds the files the adapter reads (pattern files, error
// pages, bodies of return rules), so that a config naming a huge file or a
// device cannot exhaust memory.
const maxReadFile = 64 << 20

// readConfigFile reads a file a config names. It must be a regular file
// (or /dev/null, which some configs use for an empty answer) of at most
// maxReadFile bytes.
func readConfigFile(path string) ([]byte, error) {
	if path == os.DevNull {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > maxReadFile {
		return nil, fmt.Errorf("%d bytes, larger than the %d MiB the adapter reads", fi.Size(), maxReadFile>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxReadFile+1))
	if err == nil && len(data) > maxReadFile {
		err = fmt.Errorf("grew past %d MiB while being read", maxReadFile>>20)
	}
	return data, err
}

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
// file that cannot be read (or is no regular file) counts as having one, so
// that Caddy reports the problem itself when it loads the certificate.
func pemHasKey(path string) bool {
	data, err := readConfigFile(path)
	if err != nil {
		return true
	}
	return bytes.Contains(data, []byte("PRIVATE KEY-----"))
}
