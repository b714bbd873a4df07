// Package haproxyadapter registers the "haproxy" config adapter, which turns
// a haproxy.cfg into Caddy JSON:
//
//	caddy run --adapter haproxy --config haproxy.cfg
//	caddy adapt --adapter haproxy --config haproxy.cfg
//	curl -X POST -H 'Content-Type: text/haproxy' --data-binary @haproxy.cfg localhost:2019/load
package haproxyadapter

import (
	"encoding/json"
	"os"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	// The configs the adapter writes listen on the handover package's
	// networks: whoever runs them has the adapter linked in.
	_ "github.com/caddy-haproxy/caddy-haproxy/handover"
)

func init() {
	caddyconfig.RegisterAdapter("haproxy", Adapter{})
}

// Adapter adapts haproxy.cfg text to Caddy JSON.
type Adapter struct{}

// Adapt converts body, a haproxy.cfg, into Caddy JSON. The option "filename"
// names the file in messages (Caddy's CLI sets it); without it messages say
// "haproxy.cfg". Keywords that have no effect in Caddy come back as warnings
// with their file:line; anything that cannot be translated faithfully is an
// error naming file:line and the keyword.
func (Adapter) Adapt(body []byte, options map[string]any) ([]byte, []caddyconfig.Warning, error) {
	filename := "haproxy.cfg"
	if fn, ok := options["filename"].(string); ok && fn != "" {
		filename = fn
	}
	cfg, diags := config.Load(filename, body, os.LookupEnv)
	warnings, err := sortDiagnostics(diags)
	if err != nil {
		return nil, warnings, err
	}
	caddyCfg, diags := Translate(cfg)
	moreWarnings, err := sortDiagnostics(diags)
	warnings = append(warnings, moreWarnings...)
	if err != nil {
		return nil, warnings, err
	}
	out, err := json.MarshalIndent(caddyCfg, "", "\t")
	if err != nil {
		return nil, warnings, err
	}
	return unescapeHTML(out), warnings, nil
}

// unescapeHTML undoes encoding/json's escaping of <, > and & as \u003c,
// \u003e and \u0026, which Caddy does not need, so that error pages in the
// output read as HTML. An escape counts only where the backslash is not
// itself escaped.
func unescapeHTML(js []byte) []byte {
	out := make([]byte, 0, len(js))
	for i := 0; i < len(js); i++ {
		c := js[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+5 < len(js) && js[i+1] == 'u' && js[i+2] == '0' && js[i+3] == '0' {
			switch string(js[i+4 : i+6]) {
			case "3c":
				out, i = append(out, '<'), i+5
				continue
			case "3e":
				out, i = append(out, '>'), i+5
				continue
			case "26":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		// Any other escape: copy the backslash and the escaped byte.
		out = append(out, c)
		if i+1 < len(js) {
			i++
			out = append(out, js[i])
		}
	}
	return out
}

// sortDiagnostics turns warnings into Caddy's adapter warnings and joins
// the errors into one error, nil when there is none.
func sortDiagnostics(diags []config.Diagnostic) ([]caddyconfig.Warning, error) {
	var warnings []caddyconfig.Warning
	var errs diagnosticsError
	for _, d := range diags {
		if d.Severity == config.Error {
			errs = append(errs, d)
			continue
		}
		warnings = append(warnings, warning(d))
	}
	if len(errs) > 0 {
		return warnings, errs
	}
	return warnings, nil
}

func warning(d config.Diagnostic) caddyconfig.Warning {
	return caddyconfig.Warning{
		File:      d.Pos.File,
		Line:      d.Pos.Line,
		Directive: d.Keyword,
		Message:   d.Message,
	}
}

// diagnosticsError joins every error into one, one per line, so that an
// operator sees all problems of a config at once.
type diagnosticsError []config.Diagnostic

func (e diagnosticsError) Error() string {
	s := ""
	for i, d := range e {
		if i > 0 {
			s += "\n"
		}
		s += d.Error()
	}
	return s
}

// Interface guard
var _ caddyconfig.Adapter = (*Adapter)(nil)
