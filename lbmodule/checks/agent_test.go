package checks

import (
	"net"
	"testing"
	"time"
)

func TestParseAgentReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want AgentReply
		ok   bool
	}{
		{"up\n", AgentReply{Health: "up"}, true},
		{"75%\n", AgentReply{Weight: "75%"}, true},
		{"UP, Drain\t50% maxconn:7\r\n", AgentReply{Health: "up", Admin: "drain", Weight: "50%", MaxConn: "7", HasMaxConn: true}, true},
		// HAProxy 2.6 has no "weight:" word: it is an error.
		{"weight:50%\n", AgentReply{Unknown: "weight:50%"}, true},
		{"down#gone fishing\n", AgentReply{Unknown: "down#gone", Description: ""}, true},
		{"down maxconn:3 # why not\n", AgentReply{Health: "down", MaxConn: "3", HasMaxConn: true, Description: "why not"}, true},
		{"up down fail\n", AgentReply{Health: "fail"}, true},
		{"ready maint bogus other\n", AgentReply{Admin: "maint", Unknown: "bogus"}, true},
		{"stopped\nup\n", AgentReply{Health: "stopped"}, true},
		{"up", AgentReply{}, false},
		{"", AgentReply{}, false},
	} {
		got, ok := ParseAgentReply([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseWeightAndMaxConn(t *testing.T) {
	for _, tc := range []struct {
		word       string
		configured int
		want       int
		err        bool
	}{
		{"75%", 10, 7, false},
		{"100%", 10, 10, false},
		{"250%", 10, 25, false},
		{"0%", 10, 0, false},
		{"5000%", 10, 256, false},
		{"75%x", 10, 0, true},
		{"300", 10, 0, true},
		{"12", 10, 12, false},
	} {
		got, err := ParseWeight(tc.word, tc.configured)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseWeight(%q, %d) = %d, %v", tc.word, tc.configured, got, err)
		}
	}
	for _, tc := range []struct {
		v    string
		want int
		err  bool
	}{{"7", 7, false}, {"0", 0, false}, {"", 0, true}, {"x", 0, true}, {"7x", 0, true}} {
		got, err := ParseMaxConn(tc.v)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseMaxConn(%q) = %d, %v", tc.v, got, err)
		}
	}
}

// TestAgentQueries runs an agent against a local listener: the send
// string arrives, answers are parsed, and a refused connection is a
// failure result, not a reply.
func TestAgentQueries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 5)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			sent <- string(buf[:n])
			_, _ = c.Write([]byte("drain 50%\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	results := make(chan AgentResult, 16)
	a, err := NewAgent(AgentOptions{Backend: "be", Server: "s1", Dial: "127.0.0.1:1",
		Config:   AgentConfig{Port: port, Inter: Duration(20 * time.Millisecond), Send: "hello"},
		OnResult: func(r AgentResult) { results <- r }})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	r := <-results
	if got := <-sent; got != "hello" {
		t.Errorf("agent-send: the agent got %q, want hello", got)
	}
	if !r.OK || r.Reply.Admin != "drain" || r.Reply.Weight != "50%" {
		t.Errorf("result %+v, want drain 50%%", r)
	}
	ln.Close()
	a.Stop()

	refused, err := NewAgent(AgentOptions{Backend: "be", Server: "s1", Dial: "127.0.0.1:1",
		Config:   AgentConfig{Port: port, Inter: Duration(20 * time.Millisecond)},
		OnResult: func(r AgentResult) { results <- r }})
	if err != nil {
		t.Fatal(err)
	}
	refused.Start()
	defer refused.Stop()
	r = <-results
	if r.OK || r.Failure.Code != L4CON || r.Failure.Info != "Connection refused" {
		t.Errorf("refused agent: %+v, want L4CON Connection refused", r)
	}
}

func TestAgentConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		dial string
		cfg  AgentConfig
	}{
		{"127.0.0.1:80", AgentConfig{}},
		{"127.0.0.1:80", AgentConfig{Port: 70000}},
		{"unix//tmp/x.sock", AgentConfig{Port: 9000}},
	} {
		if _, err := NewAgent(AgentOptions{Backend: "be", Server: "s", Dial: tc.dial, Config: tc.cfg}); err == nil {
			t.Errorf("%s %+v: no error", tc.dial, tc.cfg)
		}
	}
	if _, err := NewAgent(AgentOptions{Backend: "be", Server: "s", Dial: "unix//tmp/x.sock", Config: AgentConfig{Port: 9000, Addr: "127.0.0.1"}}); err != nil {
		t.Errorf("agent-addr for a UNIX socket server: %v", err)
	}
}
