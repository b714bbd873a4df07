package integration

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prometheus's HAProxy exporter reads caddy's ;csv page as it reads
// HAProxy's: it reports the scrape as up and each server's state and
// counters.
func TestStatsPrometheusExporter(t *testing.T) {
	bin, err := exec.LookPath("prometheus-haproxy-exporter")
	if err != nil {
		t.Skip("prometheus-haproxy-exporter is not installed")
	}
	port, statsPort, exporterPort := freePort(t), freePort(t), freePort(t)
	cfg := writeConfig(t, "stats_exporter.cfg", map[string]any{
		"Port": port, "StatsPort": statsPort,
		"S1": startOrigin(t, "s1").Addr(), "S2": startOrigin(t, "s2").Addr(),
	})
	startCaddy(t, cfg)
	sequence(t, "http://"+loopback(port)+"/", 6)
	exporter := startProcess(t, "exporter", exec.Command(bin,
		"--haproxy.scrape-uri=http://"+loopback(statsPort)+"/metrics-source;csv",
		"--web.listen-address="+loopback(exporterPort)))
	exporter.waitListening(loopback(exporterPort))

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + loopback(exporterPort) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(body)
	value := func(name string) (float64, bool) {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(metrics)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return v, err == nil
	}
	for name, want := range map[string]float64{
		`haproxy_up`: 1,
		`haproxy_server_up{backend="app",server="s1"}`:                              1,
		`haproxy_server_up{backend="app",server="s2"}`:                              1,
		`haproxy_server_http_responses_total{backend="app",code="2xx",server="s1"}`: 3,
		`haproxy_server_http_responses_total{backend="app",code="2xx",server="s2"}`: 3,
		`haproxy_backend_http_responses_total{backend="app",code="2xx"}`:            6,
		`haproxy_frontend_http_requests_total{frontend="fe"}`:                       6,
		`haproxy_server_weight{backend="app",server="s1"}`:                          1,
		`haproxy_backend_up{backend="app"}`:                                         1,
	} {
		got, ok := value(name)
		if !ok || got != want {
			t.Errorf("%s = %v (found %v), want %v", name, got, ok, want)
		}
	}
	if t.Failed() {
		var lines []string
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "haproxy_") {
				lines = append(lines, l)
			}
		}
		t.Logf("exporter metrics:\n%s", strings.Join(lines, "\n"))
	}
}
