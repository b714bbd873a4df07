package stats

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// maxAdminForm bounds the admin form's body, as HAProxy's buffer does.
const maxAdminForm = 16 << 10

// Results of an admin form, as HAProxy's ";st=" codes.
const (
	resultDone    = "DONE" // every server changed
	resultPart    = "PART" // some servers changed
	resultNone    = "NONE" // nothing to do
	resultBadForm = "ERRP" // unknown backend, action or servers
	resultTooBig  = "EXCD" // form too large
	resultDenied  = "DENY" // no admin rights
)

// serveAdmin applies the admin form ("s=<server>…&action=<a>&b=<backend>")
// and redirects to the page with the result, as HAProxy answers: 303 to
// "<uri>;st=<CODE>" followed by the request's other modifiers.
func (h *Handler) serveAdmin(w http.ResponseWriter, r *http.Request, req request) error {
	code := resultDenied
	if req.admin {
		code = h.applyForm(r)
	}
	rest := r.URL.RequestURI()[len(h.URI):]
	if i := strings.Index(rest, ";st="); i >= 0 {
		end := strings.IndexByte(rest[i+1:], ';')
		if end < 0 {
			rest = rest[:i]
		} else {
			rest = rest[:i] + rest[i+1+end:]
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Location", h.URI+";st="+code+rest)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

func (h *Handler) applyForm(r *http.Request) string {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminForm+1))
	if err != nil {
		return resultBadForm
	}
	if len(body) > maxAdminForm {
		return resultTooBig
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return resultBadForm
	}
	b := h.formBackend(form.Get("b"))
	if b == nil {
		return resultBadForm
	}
	action := form.Get("action")
	servers := form["s"]
	if action == "" || len(servers) == 0 {
		return resultNone
	}
	apply, ok := adminActions[action]
	if !ok {
		return resultBadForm
	}
	if action == "weight" {
		weight, err := strconv.Atoi(form.Get("weight"))
		if err != nil {
			return resultBadForm
		}
		apply = func(b *lbmodule.Backend, s string) error { return b.SetWeight(s, weight) }
	}
	done := 0
	for _, s := range servers {
		if b.Server(s) != nil && apply(b, s) == nil {
			done++
		}
	}
	switch done {
	case len(servers):
		return resultDone
	case 0:
		return resultBadForm
	}
	return resultPart
}

// formBackend finds the form's backend by name or "#<id>", within the
// page's scope.
func (h *Handler) formBackend(name string) *lbmodule.Backend {
	for _, p := range Proxies() {
		if p.Backend == nil || len(h.Scope) > 0 && !slices.Contains(h.Scope, p.Name) {
			continue
		}
		if p.Name == name || strings.HasPrefix(name, "#") && name[1:] == strconv.Itoa(p.ID) {
			return p.Backend
		}
	}
	return nil
}

// adminActions are the form's actions this page carries out: the admin
// states and the forced health states of HAProxy's page, its legacy
// enable/disable, and "weight" (with a "weight" field), which HAProxy's
// page lacks.
var adminActions = map[string]func(b *lbmodule.Backend, server string) error{
	"ready":   setAdmin(lbmodule.AdminReady),
	"enable":  setAdmin(lbmodule.AdminReady),
	"drain":   setAdmin(lbmodule.AdminDrain),
	"maint":   setAdmin(lbmodule.AdminMaint),
	"disable": setAdmin(lbmodule.AdminMaint),
	"hrunn": func(b *lbmodule.Backend, s string) error {
		if err := b.SetOperational(s, true); err != nil {
			return err
		}
		return b.SetStopping(s, false)
	},
	"hnolb":  func(b *lbmodule.Backend, s string) error { return b.SetStopping(s, true) },
	"hdown":  func(b *lbmodule.Backend, s string) error { return b.SetOperational(s, false) },
	"weight": nil,
}

func setAdmin(st lbmodule.AdminState) func(b *lbmodule.Backend, server string) error {
	return func(b *lbmodule.Backend, s string) error { return b.SetAdminState(s, st) }
}
