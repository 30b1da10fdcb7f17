package realtime_test

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/senapred-valparaiso/vigia/notice"
	"github.com/senapred-valparaiso/vigia/realtime"
	"github.com/senapred-valparaiso/vigia/realtime/memory"
)

// TestPublisherChainsNotices: each notice names the one published before
// it, so a hub can tell when one went missing.
func TestPublisherChainsNotices(t *testing.T) {
	b := memory.New(memory.Options{})
	defer b.Close()
	ch, err := b.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p := realtime.NewPublisher(b, zerolog.New(zerolog.NewTestWriter(t)))
	for _, pos := range []string{"1", "2", "3"} {
		if err := p.Notify(t.Context(), notice.Message{Type: "log.added", Topic: notice.TopicLog, Position: pos}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	for _, want := range []struct{ pos, prev string }{{"1", ""}, {"2", "1"}, {"3", "2"}} {
		select {
		case m := <-ch:
			if m.Position != want.pos || m.Prev != want.prev {
				t.Fatalf("got position %q prev %q, want %q %q", m.Position, m.Prev, want.pos, want.prev)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("notice %s not published", want.pos)
		}
	}
}

// TestAnnouncementsStayOutOfTheChain: an announcement between two notices
// carries no position, and the next notice still names the one before it.
func TestAnnouncementsStayOutOfTheChain(t *testing.T) {
	b := memory.New(memory.Options{})
	defer b.Close()
	ch, err := b.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p := realtime.NewPublisher(b, zerolog.New(zerolog.NewTestWriter(t)))
	if err := p.Notify(t.Context(), notice.Message{Type: "log.added", Topic: notice.TopicLog, Position: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Announce(notice.Message{Type: "informe.job", Topic: notice.TopicInformes, Position: "bogus", Prev: "bogus"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(t.Context(), notice.Message{Type: "log.added", Topic: notice.TopicLog, Position: "2"}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	for _, want := range []struct{ typ, pos, prev string }{{"log.added", "1", ""}, {"informe.job", "", ""}, {"log.added", "2", "1"}} {
		select {
		case m := <-ch:
			if m.Type != want.typ || m.Position != want.pos || m.Prev != want.prev {
				t.Fatalf("got %s position %q prev %q, want %s %q %q", m.Type, m.Position, m.Prev, want.typ, want.pos, want.prev)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not published", want.typ)
		}
	}
}
