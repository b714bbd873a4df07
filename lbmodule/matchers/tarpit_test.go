package matchers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestTarpitHoldsThenPassesOn checks that the request reaches the next
// handler only after the delay.
func TestTarpitHoldsThenPassesOn(t *testing.T) {
	const delay = 50 * time.Millisecond
	start := time.Now()
	var reached time.Duration
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		reached = time.Since(start)
		return nil
	})
	err := Tarpit{Delay: caddy.Duration(delay)}.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), next)
	if err != nil || reached < delay {
		t.Fatalf("next reached after %v (err %v), want at least %v", reached, err, delay)
	}
}

// TestTarpitDropsDepartedClient checks that a client leaving during the
// delay aborts the request without calling the next handler.
func TestTarpitDropsDepartedClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	called := false
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { called = true; return nil })
	defer func() {
		if p := recover(); p != http.ErrAbortHandler || called {
			t.Fatalf("recovered %v, next called %v; want http.ErrAbortHandler and no call", p, called)
		}
	}()
	time.AfterFunc(10*time.Millisecond, cancel)
	_ = Tarpit{Delay: caddy.Duration(time.Hour)}.ServeHTTP(httptest.NewRecorder(), r, next)
	t.Fatal("ServeHTTP returned")
}
