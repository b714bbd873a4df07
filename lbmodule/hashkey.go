package lbmodule

import (
	"bytes"
	"io"
	"net/http"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

// maxBodyPeek is how much of a POST body "balance url_param" reads to find
// its parameter: HAProxy looks at the first buffer of data, 16 kB by
// default (tune.bufsize).
const maxBodyPeek = 16 << 10

// requestFor returns the sched.Request of r for key (nil for algorithms
// that do not hash). For url_param on a POST whose query lacks the
// parameter it reads the start of the body, as HAProxy does, and puts the
// bytes back in front of the rest of r.Body.
func requestFor(key *sched.Key, r *http.Request) sched.Request {
	if key == nil {
		return sched.Request{Avoid: sched.NoServer}
	}
	var in sched.KeyInput
	sched.FillKeyInput(&in, r)
	req := key.Request(&in)
	if !req.HasHash && key.NeedsBody() && r.Method == http.MethodPost && r.Body != nil && r.Body != http.NoBody {
		if in.Body = peekBody(r); len(in.Body) > 0 {
			req = key.Request(&in)
		}
	}
	return req
}

// peekBody reads up to maxBodyPeek bytes of r's body (or its
// Content-Length if smaller) and leaves r.Body reading them again first.
func peekBody(r *http.Request) []byte {
	n := int64(maxBodyPeek)
	if r.ContentLength >= 0 && r.ContentLength < n {
		n = r.ContentLength
	}
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(r.Body, buf)
	buf = buf[:got]
	tail := r.Body
	if err != nil {
		// The body ended (or failed) within the peek: the reader gets the
		// same end after the bytes already read.
		tail = io.NopCloser(errReader{err})
	}
	r.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), tail), body: r.Body}
	return buf
}

// peekedBody is a request body whose first bytes were read to find a key.
type peekedBody struct {
	io.Reader
	body io.Closer
	read bool
}

func (p *peekedBody) Read(b []byte) (int, error) {
	p.read = true
	return p.Reader.Read(b)
}

// Close closes the body once the transport started reading it. Before
// that, a close comes from a failed dial, and the body must stay readable
// for the retry (Caddy's reverse_proxy protects its bodies the same way);
// the HTTP server closes it when the request ends.
func (p *peekedBody) Close() error {
	if !p.read {
		return nil
	}
	return p.body.Close()
}

// errReader returns err, or io.EOF for the short read that ended a peek.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == io.ErrUnexpectedEOF {
		return 0, io.EOF
	}
	return 0, e.err
}

// KeyFor returns the key that cfg's algorithm hashes, or nil for the
// algorithms that do not hash.
func KeyFor(cfg BackendConfig) (*sched.Key, error) {
	return sched.NewKey(schedConfig(cfg))
}
