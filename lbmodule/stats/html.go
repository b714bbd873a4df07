package stats

import (
	"fmt"
	"html"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// Version is the HAProxy version the page and the CSV follow.
const Version = "2.6"

// pageStyle gives the page HAProxy's look: its fonts, table layout and
// state colours (light and dark).
const pageStyle = `body{font-family:arial,helvetica,sans-serif;font-size:12px;color:black;background:white}
th,td{font-size:10px}
h1{font-size:x-large;margin-bottom:0.5em}
h2{font-family:helvetica,arial;font-size:x-large;font-weight:bold;font-style:italic;color:#6020a0;margin:0}
h3{font-family:helvetica,arial;font-size:16px;font-weight:bold;color:#b00040;background:#e8e8d0;margin:0}
li{margin-top:0.25em;margin-right:2em}
.hr{margin-top:0.25em;border-color:black;border-bottom-style:solid}
.titre{background:#20D0D0;color:#000000;font-weight:bold;text-align:center}
.frontend,.backend{background:#e8e8d0}
.socket{background:#d0d0d0}
.active_down,.backup_down{background:#ff9090}
.active_going_up{background:#ffd020}
.active_going_down{background:#ffffa0}
.active_up{background:#c0ffc0}
.active_nolb,.active_draining{background:#20a0ff}
.active_no_check,.backup_no_check{background:#e0e0e0}
.backup_going_up{background:#ff80ff}
.backup_going_down{background:#c060ff}
.backup_up{background:#b0d0ff}
.backup_nolb{background:#90b0e0}
.backup_draining{background:#cc9900}
.maintain{background:#c07820}
.status{font-weight:bold;padding:2px}
a.px{color:#ffff40;text-decoration:none}
a.px:hover{color:#ffffff}
a.lfsb{color:#000000;text-decoration:none}
table.tbl{border-collapse:collapse;border-style:none}
table.tbl td{text-align:right;border:1px solid gray;padding:2px 3px;white-space:nowrap}
table.tbl td.ac{text-align:center}
table.tbl th{border:1px solid gray}
table.tbl th.pxname{background:#b00040;color:#ffff40;font-weight:bold;border-bottom-style:none;padding:2px 3px;white-space:nowrap}
table.tbl th.empty{border-style:none;background:white}
table.lgd{border-collapse:collapse;border-left:1px solid black}
table.lgd td{border:1px solid gray;padding:2px}
table.lgd td.noborder{border-style:none;white-space:nowrap}
table.det{border-collapse:collapse}
table.det th{text-align:left;border-width:0;padding:0 1px 0 0;font-size:11px;font-weight:bold}
table.det td{text-align:right;border-width:0;padding:0 0 0 4px;white-space:nowrap;font-size:11px}
u{text-decoration:none;border-bottom:1px dotted black}
div.tips{display:block;visibility:hidden;z-index:2147483647;position:absolute;padding:2px 4px 3px;background:#f0f060;color:#000000;border:1px solid #7040c0;white-space:nowrap;font-size:11px;border-radius:3px;box-shadow:gray 2px 2px 3px}
u:hover div.tips{visibility:visible}
@media (prefers-color-scheme:dark){
body{color:#e8e6e3;background:#131516}
h2{color:#a265e0} h3{color:#ff5190;background-color:#3e3e1f} a{color:#3391ff}
.titre{background-color:#1aa6a6;color:#e8e6e3}
.frontend,.backend{background:#2f3437}
.active_down,.backup_down{background:#760000}
.active_going_up{background:#b99200} .active_going_down{background:#6c6c00}
.active_up{background:#165900} .active_nolb,.active_draining{background:#006ab9}
.active_no_check,.backup_no_check{background:#2a2d2f}
.backup_going_up{background:#7f007f} .backup_going_down{background:#580092}
.backup_up{background:#2e3234} .backup_nolb{background:#1e3c6a} .backup_draining{background:#a37a00}
.maintain{background:#9a601a}
table.tbl th.pxname{background-color:#8d0033;color:#ffff46} table.tbl th.empty{background-color:#181a1b}
a.lfsb{color:#e8e6e3}
}`

// adminOptions are the admin form's choices, HAProxy's first.
var adminOptions = [][2]string{
	{"", ""},
	{"ready", "Set state to READY"},
	{"drain", "Set state to DRAIN"},
	{"maint", "Set state to MAINT"},
	{"hrunn", "Health: force UP"},
	{"hnolb", "Health: force NOLB"},
	{"hdown", "Health: force DOWN"},
}

// resultText explains the ";st=" codes in the page's banner.
var resultText = map[string]string{
	resultDone:    "Action processed successfully.",
	resultPart:    "Action not processed for all servers: some were not found.",
	resultNone:    "Nothing has changed.",
	resultBadForm: "Action not processed because of invalid parameters.",
	resultTooBig:  "Action not processed: the request was too large.",
	resultDenied:  "Action denied.",
}

// page writes the HTML page.
type page struct {
	h   *Handler
	req request
	b   strings.Builder
}

func (p *page) f(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }
func (p *page) s(text string)                { p.b.WriteString(text) }

// renderHTML builds HAProxy's page: the head with the process
// information, the legend and the display options, then one table per
// proxy with its frontend, server and backend rows.
func (h *Handler) renderHTML(rows []Row, req request, opts Options) []byte {
	p := &page{h: h, req: req}
	p.s(`<!DOCTYPE html><html><head><title>Statistics Report for HAProxy</title><link rel="icon" href="data:,"><meta charset="utf-8"><style>` + pageStyle + "</style></head><body>\n")
	p.head(rows)
	var proxyRows []Row
	for i, r := range rows {
		proxyRows = append(proxyRows, r)
		if i+1 == len(rows) || rows[i+1].Proxy() != r.Proxy() {
			p.proxyTable(proxyRows)
			proxyRows = proxyRows[:0]
		}
	}
	p.s("</body></html>\n")
	return []byte(p.b.String())
}

func (p *page) head(rows []Row) {
	h := p.h
	if !h.HideVersion {
		p.f(`<h1><a href="https://www.haproxy.org/" style="text-decoration:none">HAProxy version %s statistics, served by Caddy %s</a></h1>`+"\n", Version, html.EscapeString(caddyVersion()))
	}
	p.f("<h2>Statistics Report for pid %d", os.Getpid())
	if h.ShowNode {
		p.f(" on %s", html.EscapeString(h.Node))
	}
	p.s("</h2>\n")
	if h.ShowDesc && h.Description != "" {
		p.f("<h2>%s</h2>\n", html.EscapeString(h.Description))
	}
	p.s(`<hr width="100%" class="hr"><h3>&gt; General process information</h3><table border=0><tr><td align="left" nowrap width="1%"><p>`)
	cur := int64(0)
	for _, r := range rows {
		if r.Type == Frontend {
			cur += r.Get(FieldScur).Num()
		}
	}
	p.f("<b>pid = </b> %d (process #1, nbproc = 1, nbthread = %d)<br>\n", os.Getpid(), runtime.GOMAXPROCS(0))
	p.f("<b>uptime = </b> %s<br>\n", uptime(time.Since(lbmodule.ProcessStart())))
	if limit, ok := openFileLimit(); ok {
		p.f("<b>system limits:</b> ulimit-n = %d<br>\n", limit)
	}
	p.f("current conns = %d; running goroutines = %d<br>\n", cur, runtime.NumGoroutine())
	p.s(`</td><td align="center" nowrap><table class="lgd">` +
		`<tr><td class="active_up">&nbsp;</td><td class="noborder">active UP </td><td class="backup_up">&nbsp;</td><td class="noborder">backup UP </td></tr>` +
		`<tr><td class="active_going_down"></td><td class="noborder">active UP, going down </td><td class="backup_going_down"></td><td class="noborder">backup UP, going down </td></tr>` +
		`<tr><td class="active_going_up"></td><td class="noborder">active DOWN, going up </td><td class="backup_going_up"></td><td class="noborder">backup DOWN, going up </td></tr>` +
		`<tr><td class="active_down"></td><td class="noborder">active or backup DOWN &nbsp;</td><td class="active_no_check"></td><td class="noborder">not checked </td></tr>` +
		`<tr><td class="maintain"></td><td class="noborder" colspan="3">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr>` +
		`<tr><td class="active_draining"></td><td class="noborder" colspan="3">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>` +
		`Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.</td>`)
	u := html.EscapeString(h.URI)
	p.s(`<td align="left" valign="top" nowrap width="1%"><b>Display option:</b><ul style="margin-top:0.25em">`)
	p.f(`<li><form method="GET">Scope : <input value="%s" name="scope" size="8" maxlength="20" tabindex="1"/></form>`, html.EscapeString(p.req.search))
	if p.req.up {
		p.f(`<li><a href="%s">Show all servers</a><br>`, u+p.suffix(false, p.req.noRefresh))
	} else {
		p.f(`<li><a href="%s">Hide 'DOWN' servers</a><br>`, u+p.suffix(true, p.req.noRefresh))
	}
	if h.Refresh > 0 {
		if p.req.noRefresh {
			p.f(`<li><a href="%s">Enable refresh</a><br>`, u+p.suffix(p.req.up, false))
		} else {
			p.f(`<li><a href="%s">Disable refresh</a><br>`, u+p.suffix(p.req.up, true))
		}
	}
	p.f(`<li><a href="%s">Refresh now</a><br>`, u+p.suffix(p.req.up, p.req.noRefresh))
	p.f(`<li><a href="%s;csv;norefresh">CSV export</a><br><li><a href="%s;json;norefresh">JSON export</a><br></ul></td>`, u, u)
	p.s(`<td align="left" valign="top" nowrap width="1%"><b>External resources:</b><ul style="margin-top:0.25em"><li><a href="https://www.haproxy.org/">Primary site</a><br><li><a href="https://caddyserver.com/docs/">Caddy documentation</a><br></ul></td></tr></table>` + "\n")
	if text, ok := resultText[p.req.status]; ok {
		color := "#a0ffa0"
		if p.req.status != resultDone {
			color = "#ffa0a0"
		}
		p.f(`<p><div class=status style="background:%s">[<a href="%s" title="Remove this message">X</a>] %s</div>`+"\n", color, u+p.suffix(p.req.up, p.req.noRefresh), text)
	}
}

// suffix rebuilds the modifiers of the display links.
func (p *page) suffix(up, noRefresh bool) string {
	s := ""
	if up {
		s += ";up"
	}
	if noRefresh {
		s += ";norefresh"
	}
	return s
}

var columnGroups = `<tr class="titre"><th rowspan=2></th><th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>
<tr class="titre"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th></tr>
`

func (p *page) proxyTable(rows []Row) {
	name := html.EscapeString(rows[0].Proxy())
	admin := p.req.admin && rows[len(rows)-1].Type == Backend
	if admin {
		p.s(`<form method="post">`)
	}
	p.f(`<table class="tbl" width="100%%"><tr class="titre"><th class="pxname" width="10%%"><a name="%s"></a><a class=px href="#%s">%s</a></th><th class="empty" width="90%%"></th></tr></table>`+"\n", name, name, name)
	p.s(`<table class="tbl" width="100%">` + "\n")
	groups := columnGroups
	if admin {
		groups = strings.Replace(groups, "<th rowspan=2></th>", `<th rowspan=2 width=1><input type="checkbox" onclick="for (const c of document.getElementsByClassName('`+name+`-checkbox')) c.checked = this.checked"></th>`, 1)
	}
	p.s(groups)
	for i := range rows {
		p.row(&rows[i], admin)
	}
	p.s("</table>\n")
	if admin {
		p.s(`Choose the action to perform on the checked servers : <select name=action>`)
		for _, o := range adminOptions {
			p.f(`<option value="%s">%s</option>`, o[0], o[1])
		}
		p.f(`</select><input type="hidden" name="b" value="#%d">&nbsp;<input type="submit" value="Apply"></form>`, rows[0].ProxyID)
	}
	p.s("<p>\n")
}

// rowClass is the CSS class of a row: frontend, backend, or the server's
// state style.
func rowClass(r *Row) string {
	switch r.Type {
	case Frontend:
		return "frontend"
	case Backend:
		return "backend"
	}
	status := r.Get(FieldStatus).String()
	kind := "active_"
	if r.Get(FieldBck).Num() == 1 {
		kind = "backup_"
	}
	switch {
	case strings.HasPrefix(status, "MAINT"):
		return "maintain"
	case status == "no check":
		return kind + "no_check"
	case strings.HasPrefix(status, "DOWN "):
		if strings.Contains(status, "/") {
			return kind + "going_up"
		}
		return kind + "down"
	case status == "DOWN":
		return kind + "down"
	case strings.HasPrefix(status, "DRAIN"):
		return kind + "draining"
	case strings.Contains(status, "/"):
		return kind + "going_down"
	case status == "NOLB":
		return kind + "nolb"
	case r.Get(FieldWeight).Num() == 0:
		return kind + "draining"
	}
	return kind + "up"
}

func (p *page) row(r *Row, admin bool) {
	v := func(f Field) string { return html.EscapeString(r.Get(f).String()) }
	dash := func(f Field) string {
		if r.Get(f).Empty() {
			return "-"
		}
		return v(f)
	}
	p.f(`<tr class="%s">`, rowClass(r))
	label := r.Name()
	switch r.Type {
	case Frontend:
		label = "Frontend"
	case Backend:
		label = "Backend"
	}
	if admin && r.Type == Server {
		p.f(`<td><input class='%s-checkbox' type="checkbox" name="s" value="%s"></td>`, html.EscapeString(r.Proxy()), v(FieldSvname))
	} else {
		p.s("<td></td>")
	}
	anchor := html.EscapeString(r.Proxy() + "/" + label)
	title := ""
	if p.h.ShowLegends && r.Type == Server {
		title = fmt.Sprintf(` title="IP: %s, cookie: '%s'"`, v(FieldAddr), v(FieldCookie))
	}
	p.f(`<td class=ac%s><a name="%s"></a><a class=lfsb href="#%s">%s</a></td>`, title, anchor, anchor, html.EscapeString(label))
	// Queue
	if r.Type == Frontend {
		p.s("<td colspan=3></td>")
	} else {
		p.f("<td>%s</td><td>%s</td><td>%s</td>", v(FieldQcur), v(FieldQmax), dashIf(r.Type == Server, dash(FieldQlimit)))
	}
	// Session rate
	rateLimit := ""
	if r.Type == Frontend {
		// HAProxy shows an unlimited session rate as "-".
		rateLimit = "-"
		if n := r.Get(FieldRateLim).Num(); n > 0 {
			rateLimit = v(FieldRateLim)
		}
	}
	p.f("<td>%s</td><td>%s</td><td>%s</td>", v(FieldRate), v(FieldRateMax), rateLimit)
	// Sessions
	p.f("<td>%s</td><td>%s</td><td>%s</td>", v(FieldScur), v(FieldSmax), dash(FieldSlim))
	p.f("<td><u>%s%s</u></td>", v(FieldStot), p.responseTips(r))
	p.f("<td>%s</td><td>%s</td>", v(FieldLbtot), lastSession(r))
	// Bytes, denied, errors, warnings
	p.f("<td>%s</td><td>%s</td>", humanBytes(r.Get(FieldBin).Num()), humanBytes(r.Get(FieldBout).Num()))
	p.f("<td>%s</td><td>%s</td>", v(FieldDreq), v(FieldDresp))
	p.f("<td>%s</td><td>%s</td>", v(FieldEreq), v(FieldEcon))
	if r.Type == Frontend {
		p.s("<td></td><td></td><td></td>")
	} else {
		p.f("<td><u>%s<div class=tips>Connection resets during transfers: %s client, %s server</div></u></td><td>%s</td><td>%s</td>",
			v(FieldEresp), v(FieldCliAbrt), v(FieldSrvAbrt), v(FieldWretr), v(FieldWredis))
	}
	// Server
	switch r.Type {
	case Frontend:
		p.f("<td class=ac>%s</td><td class=ac colspan=8></td>", v(FieldStatus))
	case Backend:
		p.f("<td class=ac>%s %s</td><td class=ac>&nbsp;</td><td class=ac>%s/%s</td><td class=ac>%s</td><td class=ac>%s</td><td class=ac>&nbsp;</td><td>%s</td><td>%s</td><td></td>",
			humanDuration(r.Get(FieldLastchg).Num()), v(FieldStatus), v(FieldWeight), v(FieldUweight), v(FieldAct), v(FieldBck),
			v(FieldChkdown), humanDurationOrEmpty(r.Get(FieldDowntime)))
	default:
		status := v(FieldStatus)
		switch {
		case status == "no check":
			status = "<i>no check</i>"
		case strings.HasPrefix(status, "DRAIN"):
			// HAProxy marks a draining server with a down arrow.
			status = humanDuration(r.Get(FieldLastchg).Num()) + " " + status + " &darr;"
		default:
			status = humanDuration(r.Get(FieldLastchg).Num()) + " " + status
		}
		check := ""
		if !r.Get(FieldCheckStatus).Empty() {
			check = fmt.Sprintf("<u> %s", v(FieldCheckStatus))
			if !r.Get(FieldCheckCode).Empty() {
				check += "/" + v(FieldCheckCode)
			}
			check += fmt.Sprintf(" in %sms<div class=tips>%s", v(FieldCheckDuration), v(FieldCheckDesc))
			if last := v(FieldLastChk); last != "" {
				check += ": " + last
			}
			check += "</div></u>"
		}
		p.f("<td class=ac>%s</td><td class=ac>%s</td><td class=ac>%s/%s</td><td class=ac>%s</td><td class=ac>%s</td>",
			status, check, v(FieldWeight), v(FieldUweight), yesNo(r.Get(FieldAct).Num()), yesNo(r.Get(FieldBck).Num()))
		if r.Get(FieldChkfail).Empty() {
			p.s("<td colspan=3></td>")
		} else {
			p.f("<td><u>%s<div class=tips>Failed Health Checks</div></u></td><td>%s</td><td>%s</td>", v(FieldChkfail), v(FieldChkdown), humanDurationOrEmpty(r.Get(FieldDowntime)))
		}
		if t := r.Get(FieldThrottle); !t.Empty() {
			p.f("<td class=ac>%s %%</td>", t.String())
		} else {
			p.s("<td class=ac>-</td>")
		}
	}
	p.s("</tr>\n")
}

// responseTips is the tooltip of the session total: HTTP responses by
// class and, for backends and servers, the times.
func (p *page) responseTips(r *Row) string {
	var b strings.Builder
	b.WriteString("<div class=tips><table class=det>")
	line := func(name string, val any) { fmt.Fprintf(&b, "<tr><th>%s</th><td>%v</td></tr>", name, val) }
	line("Cum. sessions:", r.Get(FieldStot).String())
	line("Cum. HTTP requests:", r.Get(FieldReqTot).String())
	for i, f := range []Field{FieldHrsp1xx, FieldHrsp2xx, FieldHrsp3xx, FieldHrsp4xx, FieldHrsp5xx} {
		line(fmt.Sprintf("- HTTP %dxx responses:", i+1), r.Get(f).String())
	}
	line("- other responses:", r.Get(FieldHrspOther).String())
	if r.Type != Frontend {
		b.WriteString("<tr><th colspan=3>Max / Avg over last 512 requests</th></tr>")
		for _, t := range []struct {
			name     string
			max, avg Field
		}{{"- Queue time:", FieldQtimeMax, FieldQtime}, {"- Connect time:", FieldCtimeMax, FieldCtime}, {"- Responses time:", FieldRtimeMax, FieldRtime}, {"- Total time:", FieldTtimeMax, FieldTtime}} {
			fmt.Fprintf(&b, "<tr><th>%s</th><td>%s / %s</td><td>ms</td></tr>", t.name, r.Get(t.max), r.Get(t.avg))
		}
	}
	b.WriteString("</table></div>")
	return b.String()
}

func dashIf(cond bool, s string) string {
	if cond {
		return s
	}
	if s == "-" {
		return ""
	}
	return s
}

func yesNo(n int64) string {
	if n != 0 {
		return "Y"
	}
	return "-"
}

func lastSession(r *Row) string {
	v := r.Get(FieldLastsess)
	switch {
	case v.Empty():
		return ""
	case v.Num() < 0:
		return "?"
	}
	return humanDuration(v.Num())
}

// humanDuration writes seconds as HAProxy's page: 5s, 3m12s, 4h05m, 2d3h.
func humanDuration(sec int64) string {
	switch {
	case sec < 60:
		return strconv.FormatInt(sec, 10) + "s"
	case sec < 3600:
		return fmt.Sprintf("%dm%ds", sec/60, sec%60)
	case sec < 86400:
		return fmt.Sprintf("%dh%02dm", sec/3600, sec/60%60)
	}
	return fmt.Sprintf("%dd%dh", sec/86400, sec/3600%24)
}

func humanDurationOrEmpty(v Value) string {
	if v.Empty() {
		return ""
	}
	return humanDuration(v.Num())
}

// humanBytes writes a byte count with its thousands apart.
func humanBytes(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

func uptime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%dd %dh%02dm%02ds", s/86400, s/3600%24, s/60%60, s%60)
}

func hostname() string {
	name, _ := os.Hostname()
	return name
}
