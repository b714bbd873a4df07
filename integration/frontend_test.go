package integration

import (
	"net/http"
	"strconv"
	"testing"
)

// TestFrontendBinds runs a frontend with a default_backend under each form
// of bind line and checks that every address it names answers.
func TestFrontendBinds(t *testing.T) {
	o := startOrigins(t, "a", "b")
	for _, tc := range []struct {
		name string
		// binds returns the bind arguments and the ports that must answer.
		binds func(t *testing.T) ([]string, []int)
	}{
		{"one address", func(t *testing.T) ([]string, []int) {
			p := freePort(t)
			return []string{loopback(p)}, []int{p}
		}},
		{"two bind lines", func(t *testing.T) ([]string, []int) {
			p1, p2 := freePort(t), freePort(t)
			return []string{loopback(p1), loopback(p2)}, []int{p1, p2}
		}},
		{"comma-separated addresses", func(t *testing.T) ([]string, []int) {
			p1, p2 := freePort(t), freePort(t)
			return []string{loopback(p1) + "," + loopback(p2)}, []int{p1, p2}
		}},
		{"bind :port", func(t *testing.T) ([]string, []int) {
			p := freePort(t)
			return []string{":" + strconv.Itoa(p)}, []int{p}
		}},
		{"bind *:port", func(t *testing.T) ([]string, []int) {
			p := freePort(t)
			return []string{"*:" + strconv.Itoa(p)}, []int{p}
		}},
		{"port range", func(t *testing.T) ([]string, []int) {
			p := freePortRange(t, 3)
			return []string{"127.0.0.1:" + strconv.Itoa(p) + "-" + strconv.Itoa(p+2)}, []int{p, p + 1, p + 2}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			binds, ports := tc.binds(t)
			cfg := writeConfig(t, "frontend_backend.cfg", map[string]any{"Binds": binds, "A": o[0].Addr(), "B": o[1].Addr()})
			startCaddy(t, cfg)
			seen := map[string]bool{}
			for _, p := range ports {
				// Two requests per port: with roundrobin over a and b
				// they come from both servers.
				for range 2 {
					status, body := get(t, "http://"+loopback(p)+"/")
					if status != http.StatusOK {
						t.Fatalf("port %d: status %d: %s", p, status, body)
					}
					seen[body] = true
				}
			}
			if !seen["a"] || !seen["b"] {
				t.Errorf("answered by %v, want both a and b", seen)
			}
		})
	}
}
