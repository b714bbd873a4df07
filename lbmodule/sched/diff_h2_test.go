package sched

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"golang.org/x/net/http2"
)

// TestHTTP2URIMatchesHAProxy checks that HTTP/2 requests, which HAProxy sees
// in absolute form, hash the same when KeyInput.Scheme is set.
func TestHTTP2URIMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	for _, args := range [][]string{nil, {"path-only"}, {"depth", "2"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			t.Parallel()
			cfg := Config{Balance: "uri", Args: args}
			h := startHAProxy(t, haproxyBackend{Lines: balanceLines(cfg), ServerOpts: weights(1, 1, 1, 1), H2: true})
			client := &http.Client{Transport: &http2.Transport{
				AllowHTTP: true,
				DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				},
			}}
			pool, servers := poolFromOpts(t, weights(1, 1, 1, 1), nil)
			alg, _ := New(cfg, servers, pool)
			key, _ := NewKey(cfg)
			for k := 0; k < 40; k++ {
				uri := uriReq(k).URI
				resp, err := client.Get("http://" + h.addr + uri)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				in := KeyInput{Method: "GET", URI: uri, Scheme: "http", Host: h.addr,
					Remote: netip.MustParseAddrPort("127.0.0.1:1")}
				got := fmt.Sprintf("s%d", alg.Pick(key.Request(&in))+1)
				if got != string(body) {
					t.Fatalf("%s: model picked %s, HAProxy %s", uri, got, body)
				}
			}
		})
	}
}
