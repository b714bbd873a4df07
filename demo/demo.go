package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	// The adapted config listens on the handover networks (haproxy-tcp…).
	_ "github.com/caddy-haproxy/caddy-haproxy/handover"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// defaultFrontend is the bind address of the example's frontend, the one
// --listen replaces.
const defaultFrontend = "127.0.0.1:8080"

// maxRound bounds the number of requests of the printed round, for configs
// whose weights add up to a lot.
const maxRound = 30

// options are the demo's inputs.
type options struct {
	// config is the haproxy.cfg text and filename its name in messages.
	config   []byte
	filename string
	// listen, when set, replaces defaultFrontend on its bind line.
	listen string
	// printConfig prints the config and its Caddy JSON instead of running.
	printConfig bool
	// verbose keeps Caddy's informational log lines.
	verbose bool
	// out receives everything the demo prints.
	out io.Writer
}

// run adapts and runs the demo config until ctx is done.
func run(ctx context.Context, opts options) error {
	text := opts.config
	if opts.listen != "" && opts.listen != defaultFrontend {
		var err error
		if text, err = replaceBind(text, defaultFrontend, opts.listen); err != nil {
			return err
		}
	}

	adapted, warnings, err := haproxyadapter.Adapter{}.Adapt(text, map[string]any{"filename": opts.filename})
	if err != nil {
		return fmt.Errorf("adapting %s: %v", opts.filename, err)
	}
	if opts.printConfig {
		fmt.Fprintf(opts.out, "# %s\n%s\n", opts.filename, text)
		fmt.Fprintf(opts.out, "# Caddy JSON (caddy adapt --adapter haproxy --config %s)\n%s\n", opts.filename, adapted)
		printWarnings(opts.out, warnings)
		return nil
	}
	printWarnings(opts.out, warnings)

	cfg, _ := config.Load(opts.filename, text, os.LookupEnv)
	if cfg == nil {
		return fmt.Errorf("%s: the adapter accepted the file but the config model is empty", opts.filename)
	}
	site, err := findSite(cfg)
	if err != nil {
		return err
	}

	caddyJSON, adminAddr, err := demoJSON(adapted, opts.verbose)
	if err != nil {
		return err
	}
	if err := checkPortsFree(cfg, site, adminAddr); err != nil {
		return err
	}

	origins, err := startOrigins(cfg)
	if err != nil {
		return err
	}
	defer origins.close()
	fmt.Fprintf(opts.out, "Started %d web servers: %s\n", len(origins.servers), origins)

	if err := caddy.Load(caddyJSON, true); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("loading the adapted config into Caddy: %v (a port is busy; use --listen or CADDY_ADMIN to pick others)", err)
		}
		return fmt.Errorf("loading the adapted config into Caddy: %v", err)
	}
	defer func() {
		if err := caddy.Stop(); err != nil {
			fmt.Fprintf(opts.out, "stopping Caddy: %v\n", err)
		}
	}()
	fmt.Fprintf(opts.out, "Caddy is running %s: frontend %q on %s, backend %q.\n\n",
		opts.filename, site.frontend.Name, site.url, site.backend.Name)

	sendRound(ctx, opts.out, site)

	fmt.Fprintf(opts.out, "\nTry it yourself:\n")
	fmt.Fprintf(opts.out, "  curl %s\n", site.url)
	if ck := site.backend.Cookie; ck != nil && len(site.backend.Servers) > 0 {
		last := site.backend.Servers[len(site.backend.Servers)-1]
		for _, s := range site.backend.Servers {
			if !s.Params.Backup && s.Params.Cookie != "" {
				last = s
			}
		}
		fmt.Fprintf(opts.out, "  curl -si %s | grep -i set-cookie    # the persistence cookie (%s)\n", site.url, ck.Name)
		fmt.Fprintf(opts.out, "  curl -b %s=%s %s    # always %s\n", ck.Name, last.Params.Cookie, site.url, last.Name)
	}
	for _, stats := range statsPages(cfg) {
		fmt.Fprintf(opts.out, "  stats page: %s\n", stats)
	}
	fmt.Fprintf(opts.out, "  curl %s/config/    # the Caddy JSON that is running\n", adminURL(adminAddr))
	fmt.Fprintf(opts.out, "  go run ./cmd/caddy haproxy-demo --print-config    # the haproxy.cfg and its JSON\n")
	fmt.Fprintf(opts.out, "Press Ctrl-C to stop.\n")

	<-ctx.Done()
	fmt.Fprintf(opts.out, "\nStopping.\n")
	return nil
}

// printWarnings lists the adapter's warnings as file:line (keyword): message.
func printWarnings(out io.Writer, warnings []caddyconfig.Warning) {
	if len(warnings) == 0 {
		return
	}
	fmt.Fprintf(out, "The haproxy adapter warns (these lines have no effect in Caddy):\n")
	for _, w := range warnings {
		fmt.Fprintf(out, "  %s\n", w.String())
	}
	fmt.Fprintln(out)
}

// replaceBind rewrites the address of the "bind <from>" line to to.
func replaceBind(text []byte, from, to string) ([]byte, error) {
	if _, _, err := net.SplitHostPort(to); err != nil {
		return nil, fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8081: %v", to, err)
	}
	lines := strings.SplitAfter(string(text), "\n")
	replaced := false
	for i, line := range lines {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "bind" && fields[1] == from {
			lines[i] = strings.Replace(line, from, to, 1)
			replaced = true
		}
	}
	if !replaced {
		return nil, fmt.Errorf("--listen: the config has no \"bind %s\" line to replace", from)
	}
	return []byte(strings.Join(lines, "")), nil
}

// site is the frontend the demo sends its requests to.
type site struct {
	frontend *config.Proxy
	backend  *config.Proxy
	url      string
}

// findSite picks the first HTTP frontend (or listen) with a bind and its
// default backend.
func findSite(cfg *config.Config) (site, error) {
	for _, p := range cfg.Proxies {
		if !p.Kind.HasFrontend() || p.Mode != "http" || len(p.Binds) == 0 {
			continue
		}
		backend := p
		if p.Kind != config.KindListen {
			backend = cfg.Proxy(p.DefaultBackend)
		}
		if backend == nil || len(backend.Servers) == 0 {
			continue
		}
		b := p.Binds[0]
		host := b.Host
		if host == "" {
			host = "127.0.0.1"
		}
		return site{
			frontend: p,
			backend:  backend,
			url:      "http://" + net.JoinHostPort(host, strconv.Itoa(b.PortLow)) + "/",
		}, nil
	}
	return site{}, errors.New("the config has no HTTP frontend with a bind and a backend with servers")
}

// demoJSON adjusts the adapted JSON for an interactive run: the config is
// not autosaved over the user's own, and Caddy's log lines below ERROR are
// hidden unless verbose (the config's own settings win), so that the demo's
// own output stays readable. It returns the JSON and the admin address.
func demoJSON(adapted []byte, verbose bool) ([]byte, string, error) {
	var doc map[string]any
	if err := json.Unmarshal(adapted, &doc); err != nil {
		return nil, "", fmt.Errorf("reading the adapted JSON: %v", err)
	}
	admin, _ := doc["admin"].(map[string]any)
	if admin == nil {
		admin = map[string]any{}
		doc["admin"] = admin
	}
	if _, ok := admin["config"]; !ok {
		admin["config"] = map[string]any{"persist": false}
	}
	adminAddr, _ := admin["listen"].(string)
	if adminAddr == "" {
		adminAddr = caddy.DefaultAdminListen
	}
	if _, ok := doc["logging"]; !ok && !verbose {
		doc["logging"] = map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}}
	}
	out, err := json.Marshal(doc)
	return out, adminAddr, err
}

// checkPortsFree fails with a clear message when a frontend port or the admin
// port is taken, before anything starts.
func checkPortsFree(cfg *config.Config, s site, adminAddr string) error {
	for _, p := range cfg.Proxies {
		if !p.Kind.HasFrontend() {
			continue
		}
		for _, b := range p.Binds {
			if b.Network == "unix" {
				continue
			}
			for port := b.PortLow; port <= b.PortHigh; port++ {
				addr := net.JoinHostPort(b.Host, strconv.Itoa(port))
				hint := ""
				if p == s.frontend {
					hint = "; pick another address with --listen, e.g. --listen 127.0.0.1:8081"
				}
				if err := checkFree(addr); err != nil {
					return fmt.Errorf("%s: %s %q cannot listen on %s: %v%s", b.Pos, p.Kind, p.Name, addr, err, hint)
				}
			}
		}
	}
	na, err := caddy.ParseNetworkAddress(adminAddr)
	if err != nil || na.IsUnixNetwork() || na.IsFdNetwork() {
		return nil
	}
	addr := na.JoinHostPort(0)
	if err := checkFree(addr); err != nil {
		return fmt.Errorf("the Caddy admin API cannot listen on %s: %v; is another Caddy running? Set CADDY_ADMIN=localhost:2020 to use another port", addr, err)
	}
	return nil
}

func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return errors.New("the address is already in use")
		}
		return err
	}
	return ln.Close()
}

// sendRound sends one round of requests (as many as the active servers'
// weights add up to) and prints which server answered each.
func sendRound(ctx context.Context, out io.Writer, s site) {
	n := 0
	var weights []string
	for _, srv := range s.backend.Servers {
		if srv.Params.Backup || srv.Params.Disabled {
			continue
		}
		n += srv.Params.Weight
		weights = append(weights, fmt.Sprintf("%s=%d", srv.Name, srv.Params.Weight))
	}
	n = max(1, min(n, maxRound))
	algorithm := s.backend.Balance.Algorithm
	if algorithm == "" {
		algorithm = "roundrobin"
	}
	fmt.Fprintf(out, "Sending %d requests to %s (balance %s, weights %s):\n",
		n, s.url, algorithm, strings.Join(weights, " "))

	client := &http.Client{Timeout: 5 * time.Second}
	order := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		name, line := ask(ctx, client, s.url)
		order = append(order, name)
		fmt.Fprintf(out, "  %2d. %-4s %s\n", i, name, line)
	}
	fmt.Fprintf(out, "Order: %s\n", strings.Join(order, " "))
}

// ask sends one request and returns the answering server's name and the
// first line of the answer (or the error).
func ask(ctx context.Context, client *http.Client, url string) (name, line string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "-", err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "-", err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "-", err.Error()
	}
	first, _, _ := bytes.Cut(body, []byte("\n"))
	name, ok := strings.CutPrefix(string(first), greeting)
	if !ok || resp.StatusCode != http.StatusOK {
		return "-", fmt.Sprintf("%s %s", resp.Status, first)
	}
	return name, string(first)
}

// statsPages lists the URLs of the stats pages the config enables.
func statsPages(cfg *config.Config) []string {
	var urls []string
	for _, p := range cfg.Proxies {
		if p.Stats == nil || !p.Stats.Enabled || len(p.Binds) == 0 {
			continue
		}
		uri := p.Stats.URI
		if uri == "" {
			uri = "/haproxy?stats"
		}
		host := p.Binds[0].Host
		if host == "" {
			host = "127.0.0.1"
		}
		url := "http://" + net.JoinHostPort(host, strconv.Itoa(p.Binds[0].PortLow)) + uri
		if len(p.Stats.Auths) > 0 {
			a := p.Stats.Auths[0]
			url += fmt.Sprintf("    (user %s, password %s)", a.User, a.Password)
		}
		urls = append(urls, url)
	}
	return urls
}

// adminURL turns the admin listen address into a URL for curl.
func adminURL(addr string) string {
	na, err := caddy.ParseNetworkAddress(addr)
	if err != nil || na.IsUnixNetwork() || na.IsFdNetwork() {
		return addr
	}
	return "http://" + na.JoinHostPort(0)
}
