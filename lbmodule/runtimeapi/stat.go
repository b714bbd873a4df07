package runtimeapi

import (
	"strconv"
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
)

// showStat writes "show stat [<iid>|<proxy> <type> <sid>] [json] [up]
// [no-maint]": the statistics rows as CSV (or JSON), narrowed to one proxy
// (-1 for all), the object types of a mask (1 frontends, 2 backends,
// 4 servers, -1 all) and one server id (-1 all). Server addresses, cookies
// and algorithms are shown from the operator level on, as in HAProxy.
func showStat(s *session, args []string, w *strings.Builder) {
	opts := stats.Options{Legends: s.level >= LevelOperator}
	iid, proxy, mask, sid := -1, "", -1, -1
	json := false
	var filter []string
	for _, a := range args {
		switch a {
		case "json":
			json = true
		case "up":
			opts.UpOnly = true
		case "no-maint":
			opts.NoMaint = true
		case "typed", "desc":
			// Not offered: plain CSV or JSON.
		default:
			filter = append(filter, a)
		}
	}
	if len(filter) >= 3 {
		// HAProxy reads the filter only when all three are there.
		if n, err := strconv.Atoi(filter[0]); err == nil {
			iid = n
		} else {
			proxy = filter[0]
			if FindBackend(proxy) == nil && !isFrontend(proxy) {
				w.WriteString("No such proxy.\n")
				return
			}
		}
		var err1, err2 error
		mask, err1 = strconv.Atoi(filter[1])
		sid, err2 = strconv.Atoi(filter[2])
		if err1 != nil || err2 != nil {
			w.WriteString("Require object type and object id.\n")
			return
		}
	}
	var rows []stats.Row
	for _, r := range stats.Snapshot(opts) {
		if (iid != -1 && r.ProxyID != iid) || (proxy != "" && r.Proxy() != proxy) {
			continue
		}
		if mask != -1 && mask&(1<<typeBit(r.Type)) == 0 {
			continue
		}
		if sid != -1 && r.Type == stats.Server && r.ServerID != sid {
			continue
		}
		rows = append(rows, r)
	}
	if json {
		_ = stats.WriteJSON(w, rows)
		return
	}
	_ = stats.WriteCSV(w, rows)
}

// typeBit is the bit of an object type in "show stat"'s type mask.
func typeBit(t stats.ObjType) int {
	switch t {
	case stats.Frontend:
		return 0
	case stats.Backend:
		return 1
	}
	return 2
}

func isFrontend(name string) bool {
	for _, p := range stats.Proxies() {
		if p.Name == name && p.Frontend != nil {
			return true
		}
	}
	return false
}
