// Command origin is the HTTP origin of the benchmarks: it answers /small
// with a 13-byte body and /64k with 64 KiB, on every address given.
//
//	go run ./bench/origin 127.0.0.1:19001 127.0.0.1:19002
package main

import (
	"bytes"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: origin <addr>...")
	}
	small := []byte("Hello, world\n")
	big := bytes.Repeat([]byte("x"), 64<<10)
	mux := http.NewServeMux()
	serve := func(body []byte) http.HandlerFunc {
		length := strconv.Itoa(len(body))
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", length)
			w.Header().Set("Content-Type", "text/plain")
			w.Write(body)
		}
	}
	mux.HandleFunc("/small", serve(small))
	mux.HandleFunc("/64k", serve(big))
	mux.HandleFunc("/", serve(small))
	errs := make(chan error)
	for _, addr := range os.Args[1:] {
		go func() { errs <- http.ListenAndServe(addr, mux) }()
	}
	log.Fatal(<-errs)
}
