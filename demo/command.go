// Package demo adds the `caddy haproxy-demo` command: it runs an example
// haproxy.cfg on Caddy in one process, with small web servers behind it, and
// shows HAProxy's load balancing at work. Nothing needs to be installed or
// configured first:
//
//	go run ./cmd/caddy haproxy-demo
package demo

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// exampleConfig is the haproxy.cfg the demo runs.
//
//go:embed haproxy.cfg
var exampleConfig []byte

// exampleFilename names the embedded file in warnings and errors, so that
// "demo/haproxy.cfg:9" points at the file in the repository.
const exampleFilename = "demo/haproxy.cfg"

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "haproxy-demo",
		Usage: "[--listen <addr>] [--print-config] [--verbose]",
		Short: "Runs an example haproxy.cfg with demo web servers behind it",
		Long: `
Runs an example haproxy.cfg on Caddy, in this process, to show what the
haproxy config adapter and load balancer do.

The demo starts a small web server on 127.0.0.1 for every server line of
the example (each answers "hello from <name>"), adapts the example with the
haproxy adapter and prints the adapter's warnings with file:line, loads the
result into Caddy, then sends one round of requests and prints which server
answered each: with weights 5:3:1 HAProxy's roundrobin answers
s1 s1 s2 s1 s3 s2 s1 s1 s2. It keeps running until Ctrl-C, so that you can
send requests of your own.

The admin API listens on localhost:2019, or on $CADDY_ADMIN when set.

--listen replaces the frontend address 127.0.0.1:8080.
--print-config prints the example haproxy.cfg and the Caddy JSON it adapts
to, then exits.
--verbose shows Caddy's log lines below ERROR (hidden by default).
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("listen", "", "frontend address to use instead of "+defaultFrontend)
			cmd.Flags().Bool("print-config", false, "print the example haproxy.cfg and its Caddy JSON, then exit")
			cmd.Flags().Bool("verbose", false, "show Caddy's log lines below ERROR")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdDemo)
		},
	})
}

// cmdDemo runs the demo until SIGINT or SIGTERM.
func cmdDemo(fl caddycmd.Flags) (int, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, options{
		config:      exampleConfig,
		filename:    exampleFilename,
		listen:      fl.String("listen"),
		printConfig: fl.Bool("print-config"),
		verbose:     fl.Bool("verbose"),
		out:         os.Stdout,
	})
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	return caddy.ExitCodeSuccess, nil
}
