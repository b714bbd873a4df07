// Command idleconns opens n keep-alive connections to an HTTP address,
// sends one request on each so the proxy has set the connection up fully,
// then holds them idle. It prints "ready" once every connection has had its
// answer and keeps them open until stdin closes. With the path "-" the
// connections are raw TCP: each sends one byte and waits for its echo.
// With -serve it is instead a TCP origin for that: it echoes what it reads
// and keeps each connection open.
//
//	idleconns 127.0.0.1:8080 /small 5000
//	idleconns -serve 127.0.0.1:9000
//	idleconns 127.0.0.1:8000 - 5000
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve" {
		log.Fatal(echo(os.Args[2]))
	}
	if len(os.Args) != 4 {
		log.Fatal("usage: idleconns <addr> <path|-> <n> | idleconns -serve <addr>")
	}
	addr, path := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		log.Fatal(err)
	}
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			if err := exchange(c, path); err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		log.Fatalf("%d connections failed, first: %v", len(errs)+1, err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// exchange sends one request on c and reads its answer: an HTTP request
// for path, or one byte echoed when path is "-".
func exchange(c net.Conn, path string) error {
	if path == "-" {
		b := []byte{'x'}
		if _, err := c.Write(b); err != nil {
			return err
		}
		_, err := io.ReadFull(c, b)
		return err
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// echo serves addr, echoing on each connection what it reads.
func echo(addr string) error {
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
			// A loop of its own: io.Copy would splice through a pipe,
			// two more descriptors per connection.
			buf := make([]byte, 512)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}
