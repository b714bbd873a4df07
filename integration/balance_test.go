package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// HAProxy's roundrobin order for weights 5:3:1 (servers A, B, C), one full
// round; checked against HAProxy 2.6.
const order531 = "s1 s1 s2 s1 s3 s2 s1 s1 s2"

func TestListenSectionBalancesByWeight(t *testing.T) {
	o := startOrigins(t, "s1", "s2", "s3", "s4")
	port := freePort(t)
	cfg := writeConfig(t, "listen_weights.cfg", map[string]any{
		"Port": port, "S1": o[0].Addr(), "S2": o[1].Addr(), "S3": o[2].Addr(), "S4": o[3].Addr(),
	})
	startCaddy(t, cfg)

	got := strings.Join(sequence(t, "http://"+loopback(port)+"/", 27), " ")
	if want := repeat(order531, 3); got != want {
		t.Errorf("answers:\n got %s\nwant %s (HAProxy's roundrobin for 5:3:1)", got, want)
	}
	for _, active := range o[:3] {
		if active.hits.Load() == 0 {
			t.Errorf("server %s got no request", active.name)
		}
	}
	if n := o[3].hits.Load(); n != 0 {
		t.Errorf("backup server s4 got %d requests while every active server was up", n)
	}
}

// TestBalanceMatchesHAProxy runs the same file under caddy and under the
// real HAProxy and compares which server answers each request of a fixed
// list: the order of the weighted algorithms, and the key-to-server mapping
// of the hashing ones. leastconn is left out: with one request at a time
// its choice depends on when each proxy releases the previous request,
// which is timing, not algorithm.
func TestBalanceMatchesHAProxy(t *testing.T) {
	for _, tc := range []struct {
		balance, hashType string
		weights           []int
	}{
		{"roundrobin", "", []int{5, 3, 1}},
		{"roundrobin", "", []int{1, 1, 1}},
		{"roundrobin", "", []int{1, 1, 2}},
		{"roundrobin", "", []int{2, 1, 4, 1, 1}},
		{"static-rr", "", []int{5, 3, 1}},
		{"static-rr", "", []int{2, 4, 6}},
		{"first", "", []int{1, 1, 1}},
		{"source", "", []int{1, 1, 1}},
		{"uri", "", []int{1, 1, 1, 1}},
		{"uri", "", []int{3, 1, 2}},
		{"uri", "consistent", []int{1, 1, 1, 1}},
		{"uri whole", "", []int{1, 1, 1}},
		{"url_param id", "", []int{1, 1, 1}},
		{"hdr(X-Key)", "", []int{1, 1, 1}},
		{"hdr(X-Key)", "consistent", []int{1, 2, 1}},
		{"hdr(X-Key)", "consistent djb2", []int{1, 2, 1}},
		{"hdr(X-Key)", "map-based crc32 avalanche", []int{1, 1, 1}},
	} {
		name := strings.ReplaceAll(fmt.Sprintf("%s_%s_%v", tc.balance, tc.hashType, tc.weights), " ", "_")
		t.Run(name, func(t *testing.T) {
			type server struct {
				Name, Addr string
				Weight     int
			}
			var servers []server
			total := 0
			for i, w := range tc.weights {
				name := fmt.Sprintf("s%d", i+1)
				servers = append(servers, server{name, startOrigin(t, name).Addr(), w})
				total += w
			}
			port := freePort(t)
			cfg := writeConfig(t, "balance.cfg", map[string]any{
				"Port": port, "Balance": tc.balance, "HashType": tc.hashType, "Servers": servers,
			})
			n := max(3*total, 24)

			haproxy := startHAProxy(t, cfg, loopback(port))
			want := strings.Join(keyedSequence(t, loopback(port), n), " ")
			haproxy.stop()

			startCaddy(t, cfg)
			got := strings.Join(keyedSequence(t, loopback(port), n), " ")
			if got != want {
				t.Errorf("answers:\ncaddy   %s\nhaproxy %s", got, want)
			}
		})
	}
}

// keyedSequence sends n requests one after the other, each with its own
// path, query parameter and header, and returns the names of the origins
// that answered.
func keyedSequence(t *testing.T, addr string, n int) []string {
	t.Helper()
	names := make([]string, n)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range names {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/item/%d?id=user%d&x=1", addr, i, i%7), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Key", fmt.Sprintf("key-%d", i*31%11))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d %q %v", i+1, resp.StatusCode, body, err)
		}
		names[i] = string(body)
	}
	return names
}
