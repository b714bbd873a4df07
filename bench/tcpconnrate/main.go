// Command tcpconnrate measures how many TCP connections per second a proxy
// carries: each worker connects, sends one byte, reads the echoed byte and
// closes, in a loop. With -serve it is instead the origin: it echoes one
// byte and closes.
//
//	tcpconnrate -serve 127.0.0.1:9000
//	tcpconnrate -addr 127.0.0.1:8000 -c 32 -d 5s
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	serve := flag.String("serve", "", "run the origin on this address")
	addr := flag.String("addr", "", "address to connect to")
	workers := flag.Int("c", 32, "concurrent connections")
	duration := flag.Duration("d", 5*time.Second, "how long to measure")
	flag.Parse()
	if *serve != "" {
		log.Fatal(runOrigin(*serve))
	}
	if *addr == "" {
		flag.Usage()
		os.Exit(2)
	}
	ok, failed := measure(*addr, *workers, *duration)
	fmt.Printf("%.0f conn/s (%d ok, %d failed)\n", float64(ok)/duration.Seconds(), ok, failed)
}

// runOrigin echoes one byte per connection, then closes first, so that
// TIME_WAIT stays on the origin's side.
func runOrigin(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err == nil {
				_, _ = c.Write(b[:])
			}
		}()
	}
}

func measure(addr string, workers int, d time.Duration) (ok, failed int64) {
	var okN, failN atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if once(addr) {
					okN.Add(1)
				} else {
					failN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return okN.Load(), failN.Load()
}

// once makes one connection: a byte there and back, then a reset, so the
// client keeps no TIME_WAIT and its ports do not run out.
func once(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	tc := c.(*net.TCPConn)
	defer func() {
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}()
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	var b = [1]byte{'x'}
	if _, err := tc.Write(b[:]); err != nil {
		return false
	}
	if _, err := io.ReadFull(tc, b[:]); err != nil {
		return false
	}
	return b[0] == 'x'
}
