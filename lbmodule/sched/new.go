package sched

import (
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Config chooses and tunes an algorithm the way HAProxy's "balance" and
// "hash-type" lines do.
type Config struct {
	// Balance is the algorithm: roundrobin (default), static-rr,
	// leastconn, first, source, uri, url_param, hdr, random, rdp-cookie or
	// hash.
	Balance string
	// Param is the parenthesised argument of hdr(<name>),
	// random(<draws>) and rdp-cookie(<name>).
	Param string
	// Args are the options after the algorithm name: "len 8", "depth 2",
	// "whole", "path-only" for uri; the parameter name and "check_post"
	// for url_param; "use_domain_only" for hdr; the sample expression for
	// hash.
	Args []string
	// HashType is "map-based" (default) or "consistent".
	HashType string
	// HashFunction is sdbm (default), djb2, wt6, crc32 or none.
	HashFunction string
	// HashAvalanche applies FullHash to key hashes. Nil means HAProxy's
	// default: on for consistent hashing without an explicit function.
	HashAvalanche *bool
	// HashBalanceFactor is "hash-balance-factor": with consistent
	// hashing, a server may take at most this percentage of its share of
	// the requests in flight (0: no limit; HAProxy requires > 100).
	HashBalanceFactor int
	// AllBackups is "option allbackups".
	AllBackups bool
	// RandomSeed seeds "random"; 0 seeds from the clock.
	RandomSeed uint32
}

// New builds the algorithm cfg describes over servers (declaration order).
// Hash-based algorithms need Request.Hash, which Key computes.
func New(cfg Config, servers []Server, pool Pool) (Algorithm, error) {
	key, err := NewKey(cfg)
	if err != nil {
		return nil, err
	}
	if f := cfg.HashBalanceFactor; f != 0 && f <= 100 {
		return nil, fmt.Errorf("hash-balance-factor: %d must be 0 or above 100", f)
	}
	name := cfg.Balance
	if name == "" {
		name = "roundrobin"
	}
	if key == nil {
		if len(cfg.Args) > 0 {
			return nil, fmt.Errorf("balance %s: unexpected argument %q", name, cfg.Args[0])
		}
		if cfg.Param != "" && name != "random" {
			return nil, fmt.Errorf("balance %s: takes no parenthesised argument (got %q)", name, cfg.Param)
		}
	}
	switch name {
	case "roundrobin":
		return NewRoundRobin(servers, pool, cfg.AllBackups), nil
	case "static-rr":
		return NewStaticRR(servers, pool, cfg.AllBackups), nil
	case "leastconn":
		return NewLeastConn(servers, pool, cfg.AllBackups), nil
	case "first":
		return NewFirst(servers, pool, cfg.AllBackups), nil
	case "random":
		draws := 2
		if cfg.Param != "" {
			n, err := strconv.Atoi(cfg.Param)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("balance random(%s): draws must be a positive integer", cfg.Param)
			}
			draws = n
		}
		seed := cfg.RandomSeed
		if seed == 0 {
			seed = uint32(time.Now().UnixNano()) | 1
		}
		r := NewRandom(servers, pool, cfg.AllBackups, draws, seed)
		r.ring.SetBalanceFactor(cfg.HashBalanceFactor)
		return r, nil
	}
	if key.consistent {
		c := NewConsistentHash(servers, pool, cfg.AllBackups)
		c.SetBalanceFactor(cfg.HashBalanceFactor)
		return c, nil
	}
	return NewMapHash(servers, pool, cfg.AllBackups), nil
}

// KeyKind is what a hash-based algorithm hashes.
type KeyKind uint8

// The keys of the hash-based algorithms.
const (
	KeySource KeyKind = iota + 1
	KeyURI
	KeyURLParam
	KeyHeader
	KeyRDPCookie
	KeyExpr
)

// Key computes the request hash of a hash-based algorithm ("balance
// source|uri|url_param|hdr|rdp-cookie|hash") with the hash-type's function
// and avalanche.
type Key struct {
	Kind      KeyKind
	Function  HashFunction
	Avalanche bool

	// URI holds the "balance uri" options.
	URI URIOptions
	// Name is the url_param parameter, the hdr header (canonical form),
	// or the rdp-cookie name.
	Name string
	// DomainOnly is hdr's use_domain_only.
	DomainOnly bool
	// Expr is the sample expression of "balance hash".
	Expr Expr

	consistent bool
}

// NewKey returns the Key of a hash-based algorithm, or nil for the others.
func NewKey(cfg Config) (*Key, error) {
	name := cfg.Balance
	if name == "" {
		name = "roundrobin"
	}
	k := &Key{}
	switch name {
	case "roundrobin", "static-rr", "leastconn", "first", "random":
		return nil, nil
	case "source":
		k.Kind = KeySource
		if len(cfg.Args) > 0 {
			return nil, fmt.Errorf("balance source: unexpected argument %q", cfg.Args[0])
		}
	case "uri":
		k.Kind = KeyURI
		args := cfg.Args
		for len(args) > 0 {
			switch args[0] {
			case "whole":
				k.URI.Whole = true
			case "path-only":
				k.URI.PathOnly = true
			case "len", "depth":
				if len(args) < 2 {
					return nil, fmt.Errorf("balance uri: %q expects a positive integer", args[0])
				}
				n, err := strconv.Atoi(args[1])
				if err != nil || n < 1 {
					return nil, fmt.Errorf("balance uri: %q expects a positive integer, got %q", args[0], args[1])
				}
				if args[0] == "len" {
					k.URI.Len = n
				} else {
					k.URI.Depth = n
				}
				args = args[1:]
			default:
				return nil, fmt.Errorf("balance uri: unknown option %q (expects len, depth, whole or path-only)", args[0])
			}
			args = args[1:]
		}
	case "url_param":
		k.Kind = KeyURLParam
		if len(cfg.Args) == 0 || cfg.Args[0] == "" {
			return nil, fmt.Errorf("balance url_param: requires a URL parameter name")
		}
		k.Name = cfg.Args[0]
		rest := cfg.Args[1:]
		if len(rest) > 0 && rest[0] == "check_post" {
			rest = rest[1:]
			if len(rest) > 0 {
				if _, err := strconv.Atoi(rest[0]); err == nil {
					rest = rest[1:] // legacy max_wait, ignored by HAProxy 2.6
				}
			}
		}
		if len(rest) > 0 {
			return nil, fmt.Errorf("balance url_param: unknown option %q (expects check_post)", rest[0])
		}
	case "hdr":
		k.Kind = KeyHeader
		if cfg.Param == "" {
			return nil, fmt.Errorf("balance hdr: requires a header name, as hdr(<name>)")
		}
		k.Name = textproto.CanonicalMIMEHeaderKey(cfg.Param)
		for _, a := range cfg.Args {
			if a != "use_domain_only" {
				return nil, fmt.Errorf("balance hdr(%s): unknown option %q (expects use_domain_only)", cfg.Param, a)
			}
			k.DomainOnly = true
		}
	case "rdp-cookie":
		k.Kind = KeyRDPCookie
		k.Name = cfg.Param
		if cfg.Param == "" {
			k.Name = "mstshash"
		}
		if len(cfg.Args) > 0 {
			return nil, fmt.Errorf("balance rdp-cookie: unexpected argument %q", cfg.Args[0])
		}
	case "hash":
		k.Kind = KeyExpr
		if len(cfg.Args) == 0 {
			return nil, fmt.Errorf("balance hash: requires a sample expression")
		}
		e, err := ParseExpr(strings.Join(cfg.Args, " "))
		if err != nil {
			return nil, fmt.Errorf("balance hash: %v", err)
		}
		k.Expr = e
	default:
		return nil, fmt.Errorf("unknown balance algorithm %q (expects roundrobin, static-rr, leastconn, first, source, uri, url_param, hdr, random, rdp-cookie or hash)", name)
	}

	switch cfg.HashType {
	case "", "map-based":
	case "consistent":
		k.consistent = true
	default:
		return nil, fmt.Errorf("hash-type: unknown method %q (expects map-based or consistent)", cfg.HashType)
	}
	f, ok := ParseHashFunction(cfg.HashFunction)
	if !ok {
		return nil, fmt.Errorf("hash-type: unknown function %q (expects sdbm, djb2, wt6, crc32 or none)", cfg.HashFunction)
	}
	k.Function = f
	switch {
	case cfg.HashAvalanche != nil:
		k.Avalanche = *cfg.HashAvalanche
	default:
		k.Avalanche = k.consistent && cfg.HashFunction == ""
	}
	return k, nil
}

// Consistent reports whether the key feeds a consistent-hash ring.
func (k *Key) Consistent() bool { return k.consistent }

// NeedsBody reports whether POST requests need their first body bytes in
// KeyInput.Body: url_param looks there when the query lacks the parameter.
func (k *Key) NeedsBody() bool { return k.Kind == KeyURLParam }

// NeedsPayload reports whether the key reads the first bytes of a TCP
// connection (rdp-cookie, or "hash" over the payload).
func (k *Key) NeedsPayload() bool { return k.Kind == KeyRDPCookie }

// Dynamic reports whether the algorithm follows weight changes at run time
// (HAProxy's dynamic algorithms). Static ones (static-rr and map-based
// hashing) accept only 0% or 100% of the initial weight from "set weight",
// and ignore slow start.
func (cfg Config) Dynamic() bool {
	switch cfg.Balance {
	case "static-rr":
		return false
	case "", "roundrobin", "leastconn", "first", "random":
		return true
	}
	return cfg.HashType == "consistent"
}
