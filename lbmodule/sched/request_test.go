package sched

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestFillKeyInput(t *testing.T) {
	r := httptest.NewRequest("GET", "/a/b?id=7", nil)
	r.RemoteAddr = "10.0.0.1:4242"
	r.Header.Set("X-User", "u")
	var in KeyInput
	FillKeyInput(&in, r)
	if in.URI != "/a/b?id=7" || in.Scheme != "" || in.Host != "example.com" || in.Method != "GET" {
		t.Errorf("HTTP/1.1: got %+v", in)
	}
	if in.Remote != netip.MustParseAddrPort("10.0.0.1:4242") {
		t.Errorf("remote %v", in.Remote)
	}
	key, _ := NewKey(Config{Balance: "hdr", Param: "x-user"})
	if h, ok := key.Hash(&in); !ok || h != SDBM([]byte("u")) {
		t.Errorf("hdr(x-user): %d, %v", h, ok)
	}
	if n := testing.AllocsPerRun(100, func() { FillKeyInput(&in, r) }); n != 0 {
		t.Errorf("%v allocations", n)
	}

	r.ProtoMajor = 2
	r.TLS = &tls.ConnectionState{}
	FillKeyInput(&in, r)
	if in.Scheme != "https" {
		t.Errorf("HTTP/2 over TLS: scheme %q", in.Scheme)
	}
	uri, _ := NewKey(Config{Balance: "uri"})
	if h, _ := uri.Hash(&in); h != SDBM([]byte("https://example.com/a/b")) {
		t.Errorf("HTTP/2 uri hash %d, want the absolute form's", h)
	}
}
