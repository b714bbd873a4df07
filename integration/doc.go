// Package integration holds end-to-end tests: they build the caddy command
// of this repository, run it on haproxy.cfg files with real origin servers
// behind it, and compare what it does with the real HAProxy where that is
// installed. All traffic stays on 127.0.0.1.
//
//	go test ./integration
package integration
