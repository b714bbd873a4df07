package integration

import (
	"fmt"
	"strings"
	"testing"
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

// TestRoundRobinMatchesHAProxy runs the same file under caddy and under the
// real HAProxy and compares the order in which servers answer.
func TestRoundRobinMatchesHAProxy(t *testing.T) {
	for _, tc := range []struct {
		balance string
		weights []int
	}{
		{"roundrobin", []int{5, 3, 1}},
		{"roundrobin", []int{1, 1, 1}},
		{"roundrobin", []int{1, 1, 2}},
		{"roundrobin", []int{2, 1, 4, 1, 1}},
	} {
		t.Run(fmt.Sprintf("%s_%v", tc.balance, tc.weights), func(t *testing.T) {
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
			cfg := writeConfig(t, "roundrobin.cfg", map[string]any{"Port": port, "Balance": tc.balance, "Servers": servers})
			url := "http://" + loopback(port) + "/"
			n := 3 * total

			haproxy := startHAProxy(t, cfg, loopback(port))
			want := strings.Join(sequence(t, url, n), " ")
			haproxy.stop()

			startCaddy(t, cfg)
			got := strings.Join(sequence(t, url, n), " ")
			if got != want {
				t.Errorf("answers:\ncaddy   %s\nhaproxy %s", got, want)
			}
		})
	}
}
