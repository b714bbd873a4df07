// Command goproxy is the net/http ceiling of the benchmarks: Go's
// httputil.ReverseProxy with a round-robin rewrite over the given origins
// and a keep-alive pool as large as the plugin's.
//
//	go run ./bench/goproxy 127.0.0.1:18080 127.0.0.1:19001 127.0.0.1:19002
package main

import (
	"log"
	"net/http"
	"net/http/httputil"
	"os"
	"sync/atomic"
)

func main() {
	if len(os.Args) < 3 {
		log.Fatal("usage: goproxy <listen> <origin>...")
	}
	origins := os.Args[2:]
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = origins[(next.Add(1)-1)%uint64(len(origins))]
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256},
	}
	log.Fatal(http.ListenAndServe(os.Args[1], proxy))
}
