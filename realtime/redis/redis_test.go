package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/internal/testkit/testsvc"
	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
	"github.com/senapred-valparaiso/vigia/realtime/brokertest"
	"github.com/senapred-valparaiso/vigia/realtime/redis"
)

// newBroker returns a broker on the test's own channel prefix, whose Redis
// connections carry a client name unique to the test.
func newBroker(t *testing.T, opts redis.Options) (*redis.Broker, *goredis.Client, string) {
	t.Helper()
	addr, prefix := testsvc.Redis(t)
	name := strings.TrimSuffix(prefix, ":")
	client := goredis.NewClient(&goredis.Options{Addr: addr, ClientName: name})
	opts.Prefix = prefix
	b := redis.New(client, zerolog.New(zerolog.NewTestWriter(t)), opts)
	t.Cleanup(func() {
		_ = b.Close()
		_ = client.Close()
	})
	return b, client, name
}

func TestBroker(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) realtime.Broker {
		b, _, _ := newBroker(t, redis.Options{Buffer: 128})
		return b
	})
}

func TestLostConnectionClosesTheSubscription(t *testing.T) {
	t.Parallel()
	b, client, name := newBroker(t, redis.Options{})
	ch, err := b.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Kill this test's subscriber connection (and only it) in Redis.
	list, err := client.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		fields := map[string]string{}
		for f := range strings.SplitSeq(line, " ") {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] == name && fields["sub"] != "0" {
			if err := client.Do(t.Context(), "CLIENT", "KILL", "ID", fields["id"]).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d subscriber connections, want 1", killed)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("got a message, want the channel closed")
		}
	case <-time.After(brokertest.Wait):
		t.Fatalf("channel not closed within %v of losing the connection", brokertest.Wait)
	}
	// The broker still works for a new subscription.
	ch, err = b.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), notice.Message{Type: "t", Topic: notice.TopicLog, Position: "1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		if m.Position != "1" {
			t.Fatalf("got position %q, want 1", m.Position)
		}
	case <-time.After(brokertest.Wait):
		t.Fatalf("no message within %v", brokertest.Wait)
	}
}

func TestMalformedMessagesAreSkipped(t *testing.T) {
	t.Parallel()
	b, client, name := newBroker(t, redis.Options{})
	ch, err := b.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Publish(t.Context(), name+":realtime", "not json").Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), notice.Message{Type: "t", Topic: notice.TopicLog, Position: "ok"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		if m.Position != "ok" {
			t.Fatalf("got position %q, want ok", m.Position)
		}
	case <-time.After(brokertest.Wait):
		t.Fatalf("no message within %v", brokertest.Wait)
	}
}
