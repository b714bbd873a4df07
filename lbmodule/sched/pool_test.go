package sched

// testPool is a Pool whose state tests set directly.
type testPool struct {
	weight []int
	down   []bool
	full   []bool
	load   []int
	// maxconn makes a server full when its load reaches it (0: no limit).
	maxconn []int
	// dead servers refuse connections: a request picking one is retried
	// once on another server, avoiding it (HAProxy's redispatch).
	dead []bool
}

func newTestPool(weights ...int) *testPool {
	n := len(weights)
	return &testPool{weight: append([]int(nil), weights...), down: make([]bool, n), full: make([]bool, n), load: make([]int, n), maxconn: make([]int, n), dead: make([]bool, n)}
}

func (p *testPool) Usable(i int) bool { return !p.down[i] }
func (p *testPool) Weight(i int) int  { return p.weight[i] }
func (p *testPool) Full(i int) bool {
	return p.full[i] || (p.maxconn[i] > 0 && p.load[i] >= p.maxconn[i])
}
func (p *testPool) Load(i int) int { return p.load[i] }

// servers returns n active servers with ids 1..n, the last nb of them backups.
func testServers(n, nb int) []Server {
	s := make([]Server, n)
	for i := range s {
		s[i] = Server{ID: i + 1, Backup: i >= n-nb}
	}
	return s
}

// picks runs n picks and returns the chosen servers as letters.
func picks(a Algorithm, n int) string {
	b := make([]byte, n)
	for k := range b {
		i := a.Pick(Request{Avoid: NoServer})
		if i == NoServer {
			b[k] = '-'
		} else {
			b[k] = byte('A' + i)
		}
	}
	return string(b)
}
