package brokertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
)

// Wait bounds every wait in the suite; a broker that takes longer fails.
const Wait = 10 * time.Second

// Run runs the contract suite. newBroker must return a fresh broker isolated
// from every other one it returned (own channel prefix for a shared server),
// whose per-subscription buffer holds between 64 and 512 messages (the slow
// subscriber case publishes more than that), and must arrange its cleanup
// with t.Cleanup. Subtests run in parallel.
func Run(t *testing.T, newBroker func(t *testing.T) realtime.Broker) {
	t.Run("delivers every field in publish order", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ch := subscribe(t, b, t.Context())
		want := make([]notice.Message, 50)
		for i := range want {
			want[i] = message(i)
			if i%3 == 0 {
				want[i].Comunas = []string{"05101", "05109"}
			}
			if i%5 == 0 {
				want[i].Region = true
			}
			publish(t, b, want[i])
		}
		for i, w := range want {
			got := receive(t, ch)
			if !equal(got, w) {
				t.Fatalf("message %d: got %+v, want %+v", i, got, w)
			}
		}
	})

	t.Run("delivers only what is published after Subscribe", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		publish(t, b, message(0))
		ch := subscribe(t, b, t.Context())
		publish(t, b, message(1))
		if got := receive(t, ch); got.Position != message(1).Position {
			t.Fatalf("first message: got position %q, want %q", got.Position, message(1).Position)
		}
	})

	t.Run("several subscribers each get every message", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		chs := make([]<-chan notice.Message, 3)
		for i := range chs {
			chs[i] = subscribe(t, b, t.Context())
		}
		const n = 20
		for i := range n {
			publish(t, b, message(i))
		}
		for s, ch := range chs {
			for i := range n {
				if got := receive(t, ch); got.Position != message(i).Position {
					t.Fatalf("subscriber %d, message %d: got position %q, want %q", s, i, got.Position, message(i).Position)
				}
			}
		}
	})

	t.Run("keeps each publisher's order", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ch := subscribe(t, b, t.Context())
		const publishers, each = 2, 30
		var wg sync.WaitGroup
		for p := range publishers {
			wg.Go(func() {
				for i := range each {
					m := notice.Message{Type: "test", Topic: notice.TopicLog, Position: fmt.Sprintf("%d/%d", p, i)}
					if err := b.Publish(context.Background(), m); err != nil {
						t.Errorf("publish %s: %v", m.Position, err)
						return
					}
				}
			})
		}
		next := make([]int, publishers)
		for range publishers * each {
			got := receive(t, ch)
			var p, i int
			if _, err := fmt.Sscanf(got.Position, "%d/%d", &p, &i); err != nil || p < 0 || p >= publishers {
				t.Fatalf("unexpected position %q", got.Position)
			}
			if i != next[p] {
				t.Fatalf("publisher %d: got message %d, want %d", p, i, next[p])
			}
			next[p]++
		}
		wg.Wait()
	})

	t.Run("ending ctx closes only that subscription", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		ctx, cancel := context.WithCancel(t.Context())
		gone := subscribe(t, b, ctx)
		stays := subscribe(t, b, t.Context())
		cancel()
		waitClosed(t, gone)
		publish(t, b, message(1))
		if got := receive(t, stays); got.Position != message(1).Position {
			t.Fatalf("remaining subscriber: got position %q, want %q", got.Position, message(1).Position)
		}
	})

	t.Run("a slow subscriber never blocks Publish and loses its subscription", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		slow := subscribe(t, b, t.Context())
		fast := subscribe(t, b, t.Context())
		const n, chunk = 2048, 32
		got := make(chan int, chunk)
		errc := make(chan error, 1)
		go func() {
			defer close(got)
			for i := range n {
				m, ok := <-fast
				if !ok {
					errc <- fmt.Errorf("fast subscriber closed after %d messages", i)
					return
				}
				if m.Position != message(i).Position {
					errc <- fmt.Errorf("fast subscriber message %d: got position %q", i, m.Position)
					return
				}
				got <- i
			}
		}()
		deadline := time.After(Wait)
		for start := 0; start < n; start += chunk {
			for i := start; i < start+chunk; i++ {
				publish(t, b, message(i))
			}
			// Pace by the fast subscriber so only the slow one overflows.
			for range chunk {
				select {
				case _, ok := <-got:
					if !ok {
						t.Fatal(<-errc)
					}
				case <-deadline:
					t.Fatalf("fast subscriber did not keep up within %v", Wait)
				}
			}
		}
		received := 0
		for {
			select {
			case m, ok := <-slow:
				if !ok {
					if received >= n {
						t.Fatalf("slow subscriber got all %d messages; its buffer should have overflowed", n)
					}
					return
				}
				if m.Position != message(received).Position {
					t.Fatalf("slow subscriber message %d: got position %q, want %q (buffered messages must be a prefix)", received, m.Position, message(received).Position)
				}
				received++
			case <-deadline:
				t.Fatalf("slow subscriber's channel not closed within %v", Wait)
			}
		}
	})

	t.Run("Close ends every subscription and refuses further use", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		chs := []<-chan notice.Message{subscribe(t, b, t.Context()), subscribe(t, b, t.Context())}
		if err := b.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		for _, ch := range chs {
			waitClosed(t, ch)
		}
		if err := b.Publish(context.Background(), message(0)); !errors.Is(err, realtime.ErrClosed) {
			t.Errorf("publish after close: got %v, want ErrClosed", err)
		}
		if _, err := b.Subscribe(context.Background()); !errors.Is(err, realtime.ErrClosed) {
			t.Errorf("subscribe after close: got %v, want ErrClosed", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	})
}

func message(i int) notice.Message {
	return notice.Message{
		Type:     "alert.updated",
		Topic:    notice.TopicAlerts,
		Position: "p" + strconv.Itoa(i),
		Data:     []byte(`{"id":"a` + strconv.Itoa(i) + `","version":` + strconv.Itoa(i) + `}`),
	}
}

func equal(a, b notice.Message) bool {
	if a.Type != b.Type || a.Topic != b.Topic || a.Position != b.Position || a.Region != b.Region ||
		len(a.Comunas) != len(b.Comunas) || !bytes.Equal(a.Data, b.Data) {
		return false
	}
	for i := range a.Comunas {
		if a.Comunas[i] != b.Comunas[i] {
			return false
		}
	}
	return true
}

func subscribe(t *testing.T, b realtime.Broker, ctx context.Context) <-chan notice.Message {
	t.Helper()
	ch, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return ch
}

func publish(t *testing.T, b realtime.Broker, m notice.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := b.Publish(ctx, m); err != nil {
		t.Fatalf("publish %s: %v", m.Position, err)
	}
}

func receive(t *testing.T, ch <-chan notice.Message) notice.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, want a message")
		}
		return m
	case <-time.After(Wait):
		t.Fatalf("no message within %v", Wait)
	}
	panic("unreachable")
}

func waitClosed(t *testing.T, ch <-chan notice.Message) {
	t.Helper()
	deadline := time.After(Wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("channel not closed within %v", Wait)
		}
	}
}
