package checks

import (
	"strings"
	"testing"
	"time"
)

func TestStateMachine(t *testing.T) {
	pass, fail := Result{Code: L4OK}, Result{Code: L4CON}
	tests := []struct {
		name       string
		rise, fall int
		startDown  bool
		// seq is a string of '+' (pass) and '-' (fail).
		seq string
		// want lists the state label after each step.
		want []string
		// trans lists the transitions ("" none, "down", "up").
		trans []string
	}{
		{
			name: "first failure at start marks the server down", rise: 2, fall: 3,
			seq:   "-++",
			want:  []string{"DOWN", "DOWN 1/2", "UP"},
			trans: []string{"down", "", "up"},
		},
		{
			name: "one success at start makes it fully up; fall failures take it down", rise: 2, fall: 3,
			seq:   "+---",
			want:  []string{"UP", "UP 2/3", "UP 1/3", "DOWN"},
			trans: []string{"", "", "", "down"},
		},
		{
			name: "going down recovers fully after one success", rise: 2, fall: 3,
			seq:   "+--+",
			want:  []string{"UP", "UP 2/3", "UP 1/3", "UP"},
			trans: []string{"", "", "", ""},
		},
		{
			name: "going up falls back to zero on a failure", rise: 3, fall: 2,
			seq:   "--++-+++",
			want:  []string{"DOWN", "DOWN", "DOWN 1/3", "DOWN 2/3", "DOWN", "DOWN 1/3", "DOWN 2/3", "UP"},
			trans: []string{"down", "", "", "", "", "", "", "up"},
		},
		{
			name: "rise 1 fall 1", rise: 1, fall: 1,
			seq:   "+-+-",
			want:  []string{"UP", "DOWN", "UP", "DOWN"},
			trans: []string{"", "down", "up", "down"},
		},
		{
			name: "disabled server starts down at zero", rise: 2, fall: 3, startDown: true,
			seq:   "++",
			want:  []string{"DOWN 1/2", "UP"},
			trans: []string{"", "up"},
		},
	}
	names := map[Transition]string{NoChange: "", WentDown: "down", WentUp: "up", WentStopping: "stopping"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := initialState(params{rise: tt.rise, fall: tt.fall}, tt.startDown)
			for i, c := range tt.seq {
				r := pass
				if c == '-' {
					r = fail
				}
				_, _, tr := st.apply(r)
				if got := st.Label(); got != tt.want[i] {
					t.Errorf("step %d (%c): state %q, want %q", i+1, c, got, tt.want[i])
				}
				if names[tr] != tt.trans[i] {
					t.Errorf("step %d (%c): transition %q, want %q", i+1, c, names[tr], tt.trans[i])
				}
			}
		})
	}
}

func TestFailedChecksCountOnlyAboveZero(t *testing.T) {
	st := initialState(params{rise: 2, fall: 3}, false)
	var failed int
	for range 4 {
		if _, f, _ := st.apply(Result{Code: L7STS}); f {
			failed++
		}
	}
	// Only the first failure finds health above zero.
	if failed != 1 {
		t.Fatalf("failed checks counted %d times, want 1", failed)
	}
}

func TestStoppingOn404(t *testing.T) {
	st := initialState(params{rise: 2, fall: 3}, false)
	st.apply(Result{Code: L7OK})
	if _, _, tr := st.apply(Result{Code: L7OKC}); tr != WentStopping || st.Label() != "NOLB" {
		t.Fatalf("after 404: transition %v, label %q", tr, st.Label())
	}
	if _, _, tr := st.apply(Result{Code: L7OK}); tr != WentUp || st.Label() != "UP" {
		t.Fatalf("after 200: transition %v, label %q", tr, st.Label())
	}
}

func TestCarryState(t *testing.T) {
	p := params{rise: 3, fall: 4}
	tests := []struct {
		old  State
		want string
	}{
		{State{Health: 4, Rise: 2, Fall: 3, Up: true}, "UP"},
		{State{Health: 2, Rise: 2, Fall: 3, Up: true}, "UP 1/4"},
		{State{Health: 3, Rise: 2, Fall: 3, Up: true}, "UP 2/4"},
		{State{Health: 0, Rise: 2, Fall: 3}, "DOWN"},
		{State{Health: 1, Rise: 2, Fall: 3}, "DOWN 1/3"},
	}
	for _, tt := range tests {
		if got := carryState(tt.old, p).Label(); got != tt.want {
			t.Errorf("carry %s: got %q, want %q", tt.old.Label(), got, tt.want)
		}
	}
}

// The expected lines are HAProxy 2.6 output for the same situations.
func TestMessages(t *testing.T) {
	down := Event{
		Backend: "be", Server: "s1",
		Result:     Result{Code: L4CON, Info: "Connection refused"},
		State:      State{Rise: 2, Fall: 3},
		Transition: WentDown,
	}
	if got, want := down.TransitionMessage(Counts{Active: 1, Backup: 1}),
		`Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`; got != want {
		t.Errorf("down:\n got %s\nwant %s", got, want)
	}
	onBackup := down
	onBackup.Server = "s2"
	if got, want := onBackup.TransitionMessage(Counts{Backup: 1}),
		`Server be/s2 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.`; got != want {
		t.Errorf("running on backup:\n got %s\nwant %s", got, want)
	}
	bdown := down
	bdown.Backup, bdown.Server = true, "b1"
	if got, want := bdown.TransitionMessage(Counts{}),
		`Backup Server be/b1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`; got != want {
		t.Errorf("backup down:\n got %s\nwant %s", got, want)
	}
	up := Event{
		Backend: "be", Server: "s1",
		Result:     Result{Code: L7OK, HTTPCode: 200, Duration: 8 * time.Millisecond},
		State:      State{Health: 4, Rise: 2, Fall: 3, Up: true},
		Transition: WentUp,
	}
	if got, want := up.TransitionMessage(Counts{Active: 1}),
		`Server be/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 8ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`; got != want {
		t.Errorf("up:\n got %s\nwant %s", got, want)
	}
	logged := Event{
		Backend: "be", Server: "s2",
		Result:          Result{Code: L7STS, HTTPCode: 503, Info: "Service Unavailable"},
		State:           State{Rise: 2, Fall: 3},
		Moved:           true,
		Transition:      WentDown,
		LogHealthChecks: true,
	}
	if got, want := logged.CheckMessage(false),
		`Health check for server be/s2 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 0ms, status: 0/2 DOWN.`; got != want {
		t.Errorf("check line:\n got %s\nwant %s", got, want)
	}
	if got, want := logged.TransitionMessage(Counts{Active: 2, Backup: 1}),
		`Server be/s2 is DOWN. 2 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`; got != want {
		t.Errorf("down with log-health-checks:\n got %s\nwant %s", got, want)
	}
	tcpOK := Event{Backend: "b1", Server: "echo", Result: Result{Code: L7OK, Info: "(tcp-check)", Duration: 4 * time.Millisecond},
		State: State{Health: 4, Rise: 2, Fall: 3, Up: true}, Moved: true}
	if got, want := tcpOK.CheckMessage(false),
		`Health check for server b1/echo succeeded, reason: Layer7 check passed, code: 0, info: "(tcp-check)", check duration: 4ms, status: 3/3 UP.`; got != want {
		t.Errorf("tcp-check line:\n got %s\nwant %s", got, want)
	}
	if got := NoServerMessage("be"); got != "backend be has no server available!" {
		t.Errorf("no server: %s", got)
	}
	if got := asciiEncode("a\"b<\r\n"); got != "a<22>b<3C><0D><0A>" {
		t.Errorf("asciiEncode: %s", got)
	}
	if !strings.HasPrefix(Code("XYZ").Description(), "Unknown") {
		t.Errorf("unknown code description")
	}
}

func TestStatusText(t *testing.T) {
	st := Status{Last: Result{Code: L7OK}}
	if got := st.StatusText(); got != "L7OK" {
		t.Errorf("idle: %q", got)
	}
	st.InProgress = true
	if got := st.StatusText(); got != "* L7OK" {
		t.Errorf("in progress: %q", got)
	}
}
