package stats

import (
	"slices"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Options narrow and shape a snapshot.
type Options struct {
	// Scope lists the proxies to show; empty shows all.
	Scope []string
	// UpOnly leaves out servers that are not UP (the ";up" modifier).
	UpOnly bool
	// NoMaint leaves out servers in maintenance (";no-maint").
	NoMaint bool
	// Legends fills addr, cookie and algo, as "stats show-legends" does.
	Legends bool
}

// Proxy is one proxy of the snapshot: a frontend, a backend, or both
// when a listen section made them with one name.
type Proxy struct {
	// Name is the proxy's name and ID its iid.
	Name string
	ID   int
	// Frontend and Backend are nil when the proxy lacks that side.
	Frontend *lbmodule.Frontend
	Backend  *lbmodule.Backend
}

// Proxies returns every frontend and backend, paired by name, in the order
// of their ids (config order, as the adapter numbers them); proxies
// without an id come last, by name.
func Proxies() []Proxy {
	byName := make(map[string]*Proxy)
	var list []*Proxy
	get := func(name string) *Proxy {
		p := byName[name]
		if p == nil {
			p = &Proxy{Name: name}
			byName[name] = p
			list = append(list, p)
		}
		return p
	}
	for _, f := range lbmodule.Frontends() {
		p := get(f.Name())
		p.Frontend = f
		p.ID = f.Config().ID
	}
	for _, b := range lbmodule.Backends() {
		p := get(b.Name())
		p.Backend = b
		if p.ID == 0 {
			p.ID = b.Config().ProxyID
		}
	}
	slices.SortStableFunc(list, func(a, b *Proxy) int {
		switch {
		case a.ID == b.ID:
			return strings.Compare(a.Name, b.Name)
		case a.ID == 0:
			return 1
		case b.ID == 0:
			return -1
		}
		return a.ID - b.ID
	})
	out := make([]Proxy, len(list))
	for i, p := range list {
		out[i] = *p
	}
	return out
}

// Snapshot reads every object's counters and state into rows, in HAProxy's
// order: per proxy its FRONTEND row, its servers, its BACKEND row.
func Snapshot(opts Options) []Row {
	now := time.Now()
	var rows []Row
	for _, p := range Proxies() {
		if len(opts.Scope) > 0 && !slices.Contains(opts.Scope, p.Name) {
			continue
		}
		rows = append(rows, ProxyRows(p, opts, now)...)
	}
	return rows
}

// ProxyRows returns the rows of one proxy.
func ProxyRows(p Proxy, opts Options, now time.Time) []Row {
	var rows []Row
	if p.Frontend != nil {
		rows = append(rows, frontendRow(p, now))
	}
	if p.Backend != nil {
		for _, s := range p.Backend.Servers() {
			r := serverRow(p, s, opts, now)
			if opts.UpOnly && !strings.HasPrefix(r.Get(FieldStatus).String(), "UP") && r.Get(FieldStatus).String() != "no check" {
				continue
			}
			if opts.NoMaint && strings.HasPrefix(r.Get(FieldStatus).String(), "MAINT") {
				continue
			}
			rows = append(rows, r)
		}
		rows = append(rows, backendRow(p, opts, now))
	} else if p.Frontend != nil && p.Frontend.Config().Listen {
		// A listen section without servers has no runtime backend; HAProxy
		// shows its BACKEND row all the same.
		if b, err := lbmodule.NewBackend(lbmodule.BackendConfig{Backend: p.Name, ProxyID: p.ID}); err == nil {
			p.Backend = b
			rows = append(rows, backendRow(p, opts, now))
		}
	}
	return rows
}

// keyFields fills the fields every row has.
func keyFields(r *Row, p Proxy, t ObjType, svname string, sid int) {
	r.Type, r.ProxyID, r.ServerID = t, p.ID, sid
	r.Set(FieldPxname, Str(p.Name))
	r.Set(FieldSvname, Str(svname))
	r.Set(FieldPid, Int(1))
	r.Set(FieldIid, Int(p.ID))
	r.Set(FieldSid, Int(sid))
	r.Set(FieldType, Int(int(t)))
}

// trafficFields fills the counters that frontends, backends and servers
// share: sessions, bytes, response denials, status classes.
func trafficFields(r *Row, c *lbmodule.Counters, now time.Time) {
	r.Set(FieldScur, Int(c.Current.Load()))
	r.Set(FieldSmax, Int(c.Max.Load()))
	r.Set(FieldStot, Int(c.Sessions.Load()))
	r.Set(FieldBin, Int(c.BytesIn.Load()))
	r.Set(FieldBout, Int(c.BytesOut.Load()))
	r.Set(FieldDresp, Int(c.DeniedResponses.Load()))
	rate, maxRate := c.SessionRate.Rate(now)
	r.Set(FieldRate, Int(rate))
	r.Set(FieldRateMax, Int(maxRate))
	for i, f := range []Field{FieldHrsp1xx, FieldHrsp2xx, FieldHrsp3xx, FieldHrsp4xx, FieldHrsp5xx, FieldHrspOther} {
		r.Set(f, Int(c.Responses[i].Load()))
	}
	r.Set(FieldReqTot, Int(c.Requests.Load()))
	r.Set(FieldMode, Str("http"))
	for _, f := range []Field{FieldWrew, FieldEint} {
		r.Set(f, Int(0))
	}
}

// cacheFields are zero on frontends and backends: Caddy's cache, when
// used, keeps its own counters.
func cacheFields(r *Row) {
	r.Set(FieldCacheLookups, Int(0))
	r.Set(FieldCacheHits, Int(0))
}

// compressionFields are zero: Caddy's encode handler keeps no such counters.
func compressionFields(r *Row) {
	for _, f := range []Field{FieldCompIn, FieldCompOut, FieldCompByp, FieldCompRsp} {
		r.Set(f, Int(0))
	}
}

func frontendRow(p Proxy, now time.Time) Row {
	var r Row
	keyFields(&r, p, Frontend, "FRONTEND", 0)
	cfg := p.Frontend.Config()
	c := p.Frontend.Counters()
	trafficFields(&r, c, now)
	compressionFields(&r)
	cacheFields(&r)
	if cfg.MaxConn > 0 {
		r.Set(FieldSlim, Int(cfg.MaxConn))
	}
	r.Set(FieldDreq, Int(c.DeniedRequests.Load()))
	r.Set(FieldEreq, Int(c.RequestErrors.Load()))
	r.Set(FieldStatus, Str("OPEN"))
	r.Set(FieldRateLim, Int(0))
	reqRate, reqMax := c.RequestRate.Rate(now)
	r.Set(FieldReqRate, Int(reqRate))
	r.Set(FieldReqRateMax, Int(reqMax))
	// Sessions are connections here: conn_* repeat them.
	r.Set(FieldConnRate, r.Get(FieldRate))
	r.Set(FieldConnRateMax, r.Get(FieldRateMax))
	r.Set(FieldConnTot, r.Get(FieldStot))
	for _, f := range []Field{FieldIntercepted, FieldDcon, FieldDses} {
		r.Set(f, Int(0))
	}
	if cfg.Mode != "" {
		r.Set(FieldMode, Str(cfg.Mode))
	}
	return r
}

// serverSideFields fills what backends and servers share: queue, errors,
// warnings, load-balanced picks, aborts, the last session and the times.
func serverSideFields(r *Row, c *lbmodule.Counters, now time.Time) {
	r.Set(FieldQcur, Int(c.QueueCurrent.Load()))
	r.Set(FieldQmax, Int(c.QueueMax.Load()))
	r.Set(FieldEcon, Int(c.ConnectErrors.Load()))
	r.Set(FieldEresp, Int(c.ResponseErrors.Load()))
	r.Set(FieldWretr, Int(c.Retries.Load()))
	r.Set(FieldWredis, Int(c.Redispatches.Load()))
	r.Set(FieldLbtot, Int(c.Total.Load()))
	r.Set(FieldCliAbrt, Int(c.ClientAborts.Load()))
	r.Set(FieldSrvAbrt, Int(c.ServerAborts.Load()))
	last := int64(-1)
	if t := c.LastSession.Load(); t != 0 {
		last = int64(now.Sub(time.Unix(0, t)) / time.Second)
	}
	r.Set(FieldLastsess, Int(last))
	for _, t := range []struct {
		avg, max Field
		a        *lbmodule.TimeAverage
	}{
		{FieldQtime, FieldQtimeMax, &c.QueueTime},
		{FieldCtime, FieldCtimeMax, &c.ConnectTime},
		{FieldRtime, FieldRtimeMax, &c.ResponseTime},
		{FieldTtime, FieldTtimeMax, &c.TotalTime},
	} {
		avg, mx := t.a.Average()
		r.Set(t.avg, Int(avg))
		r.Set(t.max, Int(mx))
	}
	r.Set(FieldConnect, Int(c.NewConnections.Load()))
	r.Set(FieldReuse, Int(c.ReusedConnections.Load()))
}

func backendRow(p Proxy, opts Options, now time.Time) Row {
	var r Row
	b := p.Backend
	cfg := b.Config()
	keyFields(&r, p, Backend, "BACKEND", 0)
	c := b.Counters()
	trafficFields(&r, c, now)
	serverSideFields(&r, c, now)
	compressionFields(&r)
	cacheFields(&r)
	if cfg.FullConn > 0 {
		r.Set(FieldSlim, Int(cfg.FullConn))
	}
	r.Set(FieldDreq, Int(c.DeniedRequests.Load()))
	act, bck := b.UsableCounts()
	weight, uweight := backendWeights(b)
	status := "UP"
	if weight == 0 && len(b.Servers()) > 0 {
		status = "DOWN"
	}
	r.Set(FieldStatus, Str(status))
	r.Set(FieldWeight, Int(weight))
	r.Set(FieldUweight, Int(uweight))
	r.Set(FieldAct, Int(act))
	r.Set(FieldBck, Int(bck))
	lastChange, downs, downtime := b.Outages()
	r.Set(FieldChkdown, Int(downs))
	r.Set(FieldLastchg, Int(int64(now.Sub(lastChange)/time.Second)))
	if len(b.Servers()) > 0 {
		r.Set(FieldDowntime, Int(int64(downtime/time.Second)))
	}
	for _, f := range []Field{FieldAggServerStatus, FieldAggServerCheckStatus, FieldAggCheckStatus} {
		r.Set(f, Int(0))
	}
	if opts.Legends {
		r.Set(FieldAlgo, Str(algoName(cfg)))
		if cfg.Cookie != nil && cfg.Cookie.Name != "" {
			r.Set(FieldCookie, Str(cfg.Cookie.Name))
		}
	}
	return r
}

// algoName is the balance algorithm as HAProxy's stats name it.
func algoName(cfg lbmodule.BackendConfig) string {
	switch cfg.Balance {
	case "":
		return "roundrobin"
	case "rdp-cookie":
		return "rdp-cookie"
	}
	return cfg.Balance
}

// backendWeights returns HAProxy's weights of a backend: the sums of the
// effective and of the user weights of the servers taking load-balanced
// traffic: the active ones, or when none is, the backups (all with
// allbackups, else the first).
func backendWeights(b *lbmodule.Backend) (weight, uweight int) {
	var active, activeU, backup, backupU int
	firstBackup := true
	for _, s := range b.Servers() {
		if !s.Usable() {
			continue
		}
		switch {
		case !s.Backup:
			active += b.VisibleWeight(s)
			activeU += s.Weight()
		case b.Config().AllBackups || firstBackup:
			firstBackup = false
			backup += b.VisibleWeight(s)
			backupU += s.Weight()
		}
	}
	if active > 0 {
		return active, activeU
	}
	return backup, backupU
}

func serverRow(p Proxy, s *lbmodule.Server, opts Options, now time.Time) Row {
	var r Row
	b := p.Backend
	keyFields(&r, p, Server, s.Name, s.ID)
	c := s.Counters()
	trafficFields(&r, c, now)
	serverSideFields(&r, c, now)
	if mc := s.MaxConnNow(); mc > 0 {
		r.Set(FieldSlim, Int(mc))
	}
	if s.MaxQueue > 0 {
		r.Set(FieldQlimit, Int(s.MaxQueue))
	}
	health, checked := b.HealthStatus(s.Name)
	agent, hasAgent := b.AgentStatus(s.Name)
	r.Set(FieldStatus, Str(ServerStatus(s, health, checked, hasAgent)))
	r.Set(FieldWeight, Int(b.VisibleWeight(s)))
	r.Set(FieldUweight, Int(s.Weight()))
	r.Set(FieldAct, Int(boolInt(!s.Backup)))
	r.Set(FieldBck, Int(boolInt(s.Backup)))
	if pct, ok := b.Throttle(s); ok {
		r.Set(FieldThrottle, Int(pct))
	}
	lastChange := s.LastChange()
	if checked {
		if health.LastChange.After(lastChange) {
			lastChange = health.LastChange
		}
		r.Set(FieldChkfail, Int(health.FailedChecks))
		r.Set(FieldChkdown, Int(health.DownTransitions))
		r.Set(FieldDowntime, Int(int64(health.Downtime/time.Second)))
		r.Set(FieldCheckStatus, Str(health.StatusText()))
		if health.Last.HTTPCode != 0 {
			r.Set(FieldCheckCode, Int(health.Last.HTTPCode))
		}
		r.Set(FieldCheckDuration, Int(health.Last.Duration.Milliseconds()))
		r.Set(FieldLastChk, Str(health.Last.Info))
		r.Set(FieldCheckDesc, Str(health.Last.Code.Description()))
		r.Set(FieldCheckRise, Int(health.Rise))
		r.Set(FieldCheckFall, Int(health.Fall))
		r.Set(FieldCheckHealth, Int(health.Health))
	}
	r.Set(FieldLastchg, Int(int64(now.Sub(lastChange)/time.Second)))
	if hasAgent {
		r.Set(FieldLastAgt, Str(agent.Info))
		r.Set(FieldAgentStatus, Str(string(agent.Code)))
		if agent.HTTPCode != 0 {
			r.Set(FieldAgentCode, Int(agent.HTTPCode))
		}
		r.Set(FieldAgentDuration, Int(agent.Duration.Milliseconds()))
		r.Set(FieldAgentDesc, Str(agent.Code.Description()))
		r.Set(FieldAgentRise, Int(1))
		r.Set(FieldAgentFall, Int(1))
		r.Set(FieldAgentHealth, Int(boolInt(!s.DownByAgent())))
	}
	for _, f := range []Field{FieldSrvIcur, FieldIdleConnCur, FieldSafeConnCur, FieldUsedConnCur, FieldNeedConnEst} {
		r.Set(f, Int(0))
	}
	r.Set(FieldUsedConnCur, Int(c.Current.Load()))
	if opts.Legends {
		r.Set(FieldAddr, Str(s.Dial))
		if s.Cookie != "" {
			r.Set(FieldCookie, Str(s.Cookie))
		}
	}
	return r
}

// ServerStatus is the status column of a server, as HAProxy 2.6 writes it:
// MAINT whatever the health, then by operational state UP, UP x/y (going
// down), DRAIN, NOLB, DOWN, DOWN x/y (going up), DOWN (agent), and
// "no check" for an unchecked server that is up.
func ServerStatus(s *lbmodule.Server, health checks.Status, checked, agent bool) string {
	if s.AdminState() == lbmodule.AdminMaint {
		return "MAINT"
	}
	goingDown := checked && health.Up && !health.FullyUp()
	counter := ""
	if checked {
		counter = " " + itoa(health.Health-health.Rise+1) + "/" + itoa(health.Fall)
	}
	switch {
	case s.Up() && s.Stopping():
		if goingDown {
			return "NOLB" + counter
		}
		return "NOLB"
	case s.Up():
		if s.AdminState() == lbmodule.AdminDrain {
			switch {
			case agent:
				return "DRAIN (agent)"
			case goingDown:
				return "DRAIN" + counter
			}
			return "DRAIN"
		}
		switch {
		case goingDown:
			return "UP" + counter
		case !checked:
			return "no check"
		}
		return "UP"
	case s.DownByAgent():
		return "DOWN (agent)"
	case checked && health.Health > 0:
		return "DOWN " + itoa(health.Health) + "/" + itoa(health.Rise)
	}
	return "DOWN"
}

func itoa(n int) string { return Int(n).String() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
