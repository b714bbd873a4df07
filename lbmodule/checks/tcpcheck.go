package checks

import (
	"bytes"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
)

// tcpCheck runs "tcp-check" rules. Messages follow HAProxy's: a failed
// expect at the end of the data reads "TCPCHK did not match content 'x'
// at step 2", a timeout " at step 2 of tcp-check (expect string 'x')".
func (s *session) tcpCheck(rules []compiledRule) Result {
	pr := s.pr
	if rules[0].Action != "connect" {
		if r, ok := s.connect(pr.network, pr.address(), pr.useTLS, pr.tlsConf); !ok {
			r.Info += " at initial connection step of tcp-check"
			return r
		}
	}
	var buf []byte
	for i := range rules {
		r := &rules[i]
		switch r.Action {
		case "connect":
			network, addr := pr.network, pr.address()
			if r.Port != 0 || r.Addr != "" {
				host, port := pr.host, pr.port
				if r.Addr != "" {
					host = r.Addr
				}
				if r.Port != 0 {
					port = strconv.Itoa(r.Port)
				}
				network, addr = "tcp", net.JoinHostPort(host, port)
			}
			conf := pr.tlsConf
			if r.SNI != "" {
				conf = pr.withSNI(conf, r.SNI)
			}
			if i > 0 {
				// Later connections share the check's time budget.
				s.connectBy = s.deadline
			}
			if res, ok := s.connect(network, addr, r.SSL, conf); !ok {
				what := " (connect)"
				if r.Port != 0 {
					what = " (connect port " + strconv.Itoa(r.Port) + ")"
				}
				res.Info += " at step " + strconv.Itoa(r.step) + " of tcp-check" + what
				return res
			}
			buf = buf[:0]
		case "send", "send-binary":
			buf = buf[:0]
			if _, err := s.conn.Write(r.data); err != nil {
				res := ioFailure(err, L7TOUT)
				res.Info += " at step " + strconv.Itoa(r.step) + " of tcp-check (send)"
				return res
			}
		case "expect":
			var closed bool
			var err error
			buf, closed, err = s.readUntil(buf, r.matches)
			match := r.matches(buf)
			if !match && !closed && err != nil {
				res := ioFailure(err, L7TOUT)
				res.Info += " at step " + strconv.Itoa(r.step) + " of tcp-check (expect " + r.describe() + ")"
				return res
			}
			if !match && closed && len(buf) == 0 {
				return Result{Code: L7RSP, Info: emptyResponse(r.step)}
			}
			if match == r.Negate {
				info := "TCPCHK did not match content "
				if r.Negate {
					info = "TCPCHK matched unwanted content "
				}
				return Result{Code: L7RSP, Info: info + r.shortPattern() + " at step " + strconv.Itoa(r.step)}
			}
		}
	}
	return Result{Code: L7OK, Info: "(tcp-check)"}
}

// matches reports whether buf holds what an expect rule looks for.
func (r *compiledRule) matches(buf []byte) bool {
	switch r.Match {
	case "string", "binary":
		return bytes.Contains(buf, r.data)
	case "rstring":
		return r.re.Match(buf)
	case "rbinary":
		return r.re.MatchString(strings.ToUpper(hex.EncodeToString(buf)))
	}
	return false
}

// describe names an expect rule in a timeout message.
func (r *compiledRule) describe() string {
	switch r.Match {
	case "string":
		return "string '" + r.Pattern + "'"
	case "binary":
		// HAProxy prints the raw bytes as a C string.
		raw, _, _ := bytes.Cut(r.data, []byte{0})
		return "binary '" + string(raw) + "'"
	case "rstring":
		return "regex"
	}
	return "binary regex"
}

// shortPattern names an expect rule in a mismatch message.
func (r *compiledRule) shortPattern() string {
	switch r.Match {
	case "string":
		return "'" + r.Pattern + "'"
	case "binary":
		return "(binary)"
	case "rstring":
		return "(regex)"
	}
	return "(binary regex)"
}

// emptyResponse is HAProxy's detail for a connection closed before any
// data came, at the given step of the check's rules.
func emptyResponse(step int) string {
	return "TCPCHK got an empty response at step " + strconv.Itoa(step)
}
