package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// parseSource reads the words of "source <addr>[:<port>] [usesrc <x>]
// [interface <name>]", as a proxy line or a server parameter.
func parseSource(words []string) (*Source, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("needs an address")
	}
	addr, port, err := parseSourceAddr(words[0])
	if err != nil {
		return nil, err
	}
	src := &Source{Addr: addr, Port: port}
	for i := 1; i < len(words); i += 2 {
		if i+1 >= len(words) {
			return nil, fmt.Errorf("'%s' needs an argument", words[i])
		}
		arg := words[i+1]
		switch words[i] {
		case "usesrc":
			switch {
			case arg == "client" || arg == "clientip":
				src.UseSrc = arg
			case strings.HasPrefix(arg, "hdr_ip("):
				return nil, fmt.Errorf("usesrc hdr_ip() is not translated: the address would come from a request header")
			default:
				if _, _, err := parseSourceAddr(arg); err != nil {
					return nil, fmt.Errorf("usesrc: %v", err)
				}
				src.UseSrc = arg
			}
		case "interface":
			src.Interface = arg
		default:
			return nil, fmt.Errorf("unexpected '%s' (expected usesrc or interface)", words[i])
		}
	}
	return src, nil
}

// parseSourceAddr reads "ip", "ip:port", "[ipv6]:port", "ipv4@…" or
// "ipv6@…". HAProxy also takes port ranges on server lines and host
// names; neither is translated.
func parseSourceAddr(s string) (netip.Addr, int, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "ipv4@"), "ipv6@")
	host, portText := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return netip.Addr{}, 0, fmt.Errorf("invalid address '%s'", s)
		}
		host, portText = s[1:end], strings.TrimPrefix(s[end+1:], ":")
	case strings.Count(s, ":") == 1:
		host, portText, _ = strings.Cut(s, ":")
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("'%s' is not an IP address (host names and interfaces are not translated)", host)
	}
	port := 0
	if portText != "" {
		if strings.Contains(portText, "-") {
			return netip.Addr{}, 0, fmt.Errorf("port range '%s' is not translated; give one port or none", portText)
		}
		port, err = strconv.Atoi(portText)
		if err != nil || port < 0 || port > 65535 {
			return netip.Addr{}, 0, fmt.Errorf("invalid port '%s'", portText)
		}
	}
	return addr.Unmap(), port, nil
}
