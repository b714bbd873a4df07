package matchers

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(SetVar{})
}

// SetVar stores the value of an HAProxy sample expression in an HAProxy
// variable, as "http-request set-var(<scope>.<name>) <expr>" does. It is
// the http.handlers.haproxy_set_var module. The variable lives in Caddy's
// request variables, where the haproxy_acl matcher's var fetch and the
// {http.vars.haproxy.<scope>.<name>} placeholder read it.
//
//	{"handler": "haproxy_set_var", "name": "txn.zoom",
//	 "fetch": "path", "converters": [{"name": "word", "args": ["2", "/"]}]}
//
// A fetch reads the last occurrence of a header or cookie, as HAProxy's
// fetches do outside ACLs. An expression that yields no sample leaves the
// variable as it was.
type SetVar struct {
	// Name is the variable, "<scope>.<name>" with scope txn or req.
	Name string `json:"name"`
	// Fetch is the sample fetch, as in a haproxy_acl test (str, int and
	// bool give constants).
	Fetch string `json:"fetch"`
	// Args are the fetch's arguments.
	Args []string `json:"args,omitempty"`
	// Converters transform the sample in order.
	Converters []Converter `json:"converters,omitempty"`
	// Unset removes the variable instead ("unset-var"); there is then
	// no fetch.
	Unset bool `json:"unset,omitempty"`
	// Format, when set, is stored instead of a fetch's sample: a string
	// with Caddy placeholders ("set-var-fmt"), stored even when empty.
	Format string `json:"format,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (SetVar) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_set_var",
		New: func() caddy.Module { return new(SetVar) },
	}
}

// Provision checks the variable and prepares the expression.
func (sv *SetVar) Provision(caddy.Context) error { return sv.Validate() }

// Validate checks the handler the way Provision does, so that a
// configuration generator can report a problem before Caddy loads it.
func (sv *SetVar) Validate() error {
	if err := checkVarName([]string{sv.Name}); err != nil {
		return err
	}
	if sv.Unset || sv.Format != "" {
		if sv.Fetch != "" || len(sv.Converters) > 0 || sv.Unset && sv.Format != "" {
			return fmt.Errorf("%s: unset and format take no expression, and exclude each other", sv.Name)
		}
		return nil
	}
	if _, err := provisionExpression(sv.Fetch, sv.Args, sv.Converters); err != nil {
		return fmt.Errorf("set-var(%s): %v", sv.Name, err)
	}
	return nil
}

// ServeHTTP evaluates the expression and stores its sample (or removes the
// variable), then calls the next handler.
func (sv SetVar) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if sv.Unset {
		caddyhttp.SetVar(r.Context(), varKey(sv.Name), nil)
	} else if sv.Format != "" {
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl != nil {
			caddyhttp.SetVar(r.Context(), varKey(sv.Name), stringSample(repl.ReplaceAll(sv.Format, "")))
		}
	} else if smp := evalExpression(r, sv.Fetch, sv.Args, sv.Converters, false); len(smp) > 0 {
		caddyhttp.SetVar(r.Context(), varKey(sv.Name), smp[0])
	}
	return next.ServeHTTP(w, r)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*SetVar)(nil)
	_ caddyhttp.MiddlewareHandler = SetVar{}
)
