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
	rest := r.Body
	if err != nil {
		// The body ended (or failed) within the peek: keep the error for
		// the reader, after the bytes already read.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}), rest}
	} else {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), rest), rest}
	}
	return buf
}

type readCloser struct {
	io.Reader
	closer io.Closer
}

func (rc readCloser) Close() error { return rc.closer.Close() }

// errReader returns err, or io.EOF for the short read that ended a peek.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == io.ErrUnexpectedEOF {
		return 0, io.EOF
	}
	return 0, e.err
}
