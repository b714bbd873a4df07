package maxconn

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"go.uber.org/zap"
)

// TestHandlerHoldsSlotForTheConnection: the handler keeps its slot until
// the routes are done with the connection; a second connection waits, and
// gives up when the config is unloaded.
func TestHandlerHoldsSlotForTheConnection(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h := &Handler{Limits: []Limit{{Name: t.Name(), Max: 1}}}
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.Cleanup()

	conn := func() *layer4.Connection {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return layer4.WrapConnection(a, nil, zap.NewNop())
	}
	release := make(chan struct{})
	entered := make(chan int, 2)
	handle := func(id int) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.Handle(conn(), layer4.HandlerFunc(func(*layer4.Connection) error {
				entered <- id
				<-release
				return nil
			}))
		}()
		return done
	}

	first := handle(1)
	if id := <-entered; id != 1 {
		t.Fatalf("connection %d served first", id)
	}
	second := handle(2)
	select {
	case id := <-entered:
		t.Fatalf("connection %d served over the limit", id)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-first
	select {
	case id := <-entered:
		if id != 2 {
			t.Fatalf("connection %d served, want 2", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the slot was not given back when the first connection ended")
	}
	<-second

	// A connection waiting when the config is unloaded gives up.
	block := make(chan struct{})
	defer close(block)
	holding := make(chan struct{})
	go h.Handle(conn(), layer4.HandlerFunc(func(*layer4.Connection) error {
		close(holding)
		<-block
		return nil
	}))
	<-holding
	waiting := handle(3)
	cancel()
	select {
	case <-waiting:
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting connection did not give up when the config was unloaded")
	}
	select {
	case id := <-entered:
		t.Fatalf("connection %d served after the unload", id)
	default:
	}
}
