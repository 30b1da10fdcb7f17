package esdbtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/senapred-valparaiso/vigia/eventstore/esdb/esdbtest"
)

// These tests speak the wire protocol directly, with the generated client,
// to pin the answers the adapter's tests rely on without going through the
// Go client's translation of them.

const deadline = 30 * time.Second

func dial(t *testing.T) (streams.StreamsClient, *esdbtest.Server) {
	t.Helper()
	srv := esdbtest.NewServer(t)
	cc, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return streams.NewStreamsClient(cc), srv
}

func proposed(id uuid.UUID, typ string) *streams.AppendReq {
	return &streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id:       &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}},
		Metadata: map[string]string{"type": typ, "content-type": "application/json"},
		Data:     []byte(`{}`),
	}}}
}

func options(stream string, rev any) *streams.AppendReq {
	o := &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)}}
	switch r := rev.(type) {
	case uint64:
		o.ExpectedStreamRevision = &streams.AppendReq_Options_Revision{Revision: r}
	case string:
		switch r {
		case "any":
			o.ExpectedStreamRevision = &streams.AppendReq_Options_Any{Any: &shared.Empty{}}
		case "no_stream":
			o.ExpectedStreamRevision = &streams.AppendReq_Options_NoStream{NoStream: &shared.Empty{}}
		case "stream_exists":
			o.ExpectedStreamRevision = &streams.AppendReq_Options_StreamExists{StreamExists: &shared.Empty{}}
		}
	}
	return &streams.AppendReq{Content: &streams.AppendReq_Options_{Options: o}}
}

func appendRaw(t *testing.T, c streams.StreamsClient, msgs ...*streams.AppendReq) (*streams.AppendResp, error) {
	t.Helper()
	a, err := c.Append(t.Context())
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	for _, m := range msgs {
		if err := a.Send(m); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	return a.CloseAndRecv()
}

func appendIDs(t *testing.T, c streams.StreamsClient, stream string, rev any, ids ...uuid.UUID) *streams.AppendResp {
	t.Helper()
	msgs := []*streams.AppendReq{options(stream, rev)}
	for _, id := range ids {
		msgs = append(msgs, proposed(id, "t"))
	}
	resp, err := appendRaw(t, c, msgs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return resp
}

func TestWrongExpectedVersionPayload(t *testing.T) {
	t.Parallel()
	c, _ := dial(t)
	appendIDs(t, c, "s-1", "no_stream", uuid.New(), uuid.New(), uuid.New())

	w := appendIDs(t, c, "s-1", uint64(7), uuid.New()).GetWrongExpectedVersion()
	if w == nil || w.GetCurrentRevision() != 2 || w.GetCurrentRevision_20_6_0() != 2 ||
		w.GetExpectedRevision() != 7 || w.GetExpectedRevision_20_6_0() != 7 {
		t.Errorf("exact 7 on a stream at 2: %v", w)
	}
	w = appendIDs(t, c, "s-1", "no_stream", uuid.New()).GetWrongExpectedVersion()
	if w == nil || w.GetExpectedNoStream() == nil || w.GetExpectedRevision_20_6_0() != ^uint64(0) || w.GetCurrentRevision() != 2 {
		t.Errorf("no_stream on a stream at 2: %v", w)
	}
	w = appendIDs(t, c, "s-2", "stream_exists", uuid.New()).GetWrongExpectedVersion()
	if w == nil || w.GetExpectedStreamExists() == nil || w.GetStreamExists_20_6_0() == nil ||
		w.GetCurrentNoStream() == nil || w.GetNoStream_20_6_0() == nil {
		t.Errorf("stream_exists on a missing stream: %v", w)
	}
	w = appendIDs(t, c, "s-2", uint64(0), uuid.New()).GetWrongExpectedVersion()
	if w == nil || w.GetCurrentNoStream() == nil || w.GetExpectedRevision() != 0 {
		t.Errorf("exact 0 on a missing stream: %v", w)
	}
}

// TestCheckCommit pins IndexWriter.CheckCommit's decisions on retries.
func TestCheckCommit(t *testing.T) {
	t.Parallel()
	c, srv := dial(t)
	a, b, x := uuid.New(), uuid.New(), uuid.New()
	first := appendIDs(t, c, "s", "any", a, b).GetSuccess()
	if first.GetCurrentRevision() != 1 {
		t.Fatalf("first append: %v", first)
	}
	last := first.GetPosition()
	if last.GetCommitPosition() != last.GetPreparePosition() || last.GetCommitPosition() == 0 {
		t.Errorf("position %v, want commit == prepare, not zero", last)
	}

	cases := []struct {
		name  string
		rev   any
		ids   []uuid.UUID
		check func(*streams.AppendResp) bool
	}{
		{"an any retry answers the original result", "any", []uuid.UUID{a, b}, func(r *streams.AppendResp) bool {
			return r.GetSuccess().GetCurrentRevision() == 1 && r.GetSuccess().GetPosition().GetCommitPosition() == last.GetCommitPosition()
		}},
		{"a no_stream retry answers the original result", "no_stream", []uuid.UUID{a, b}, func(r *streams.AppendResp) bool {
			return r.GetSuccess().GetCurrentRevision() == 1 && r.GetSuccess().GetPosition().GetCommitPosition() == last.GetCommitPosition()
		}},
		{"a reordered any retry is idempotent, answering the last ID's revision", "any", []uuid.UUID{b, a}, func(r *streams.AppendResp) bool {
			return r.GetSuccess().GetCurrentRevision() == 0
		}},
		{"a partial overlap with any is a wrong expected version", "any", []uuid.UUID{b, x}, func(r *streams.AppendResp) bool {
			return r.GetWrongExpectedVersion().GetExpectedAny() != nil && r.GetWrongExpectedVersion().GetCurrentRevision() == 1
		}},
		{"a partial overlap with an exact revision is a wrong expected version", uint64(0), []uuid.UUID{b, x}, func(r *streams.AppendResp) bool {
			return r.GetWrongExpectedVersion().GetCurrentRevision() == 1
		}},
	}
	for _, tc := range cases {
		if r := appendIDs(t, c, "s", tc.rev, tc.ids...); !tc.check(r) {
			t.Errorf("%s: got %v", tc.name, r)
		}
	}
	if n := len(srv.Events()); n != 3+2 { // the fresh node's system events, a and b
		t.Fatalf("the node holds %d events, want 5", n)
	}
	// A new first event makes it a new write, even if later IDs are stored.
	if r := appendIDs(t, c, "s", "any", x, a); r.GetSuccess().GetCurrentRevision() != 3 {
		t.Errorf("new then stored: %v, want written at 2 and 3", r)
	}
	// IDs are keys per stream: another stream takes a again.
	if r := appendIDs(t, c, "other", "no_stream", a); r.GetSuccess() == nil {
		t.Errorf("a in another stream: %v, want written", r)
	}
}

func TestAppendRequiresTypeAndContentType(t *testing.T) {
	t.Parallel()
	c, _ := dial(t)
	msg := proposed(uuid.New(), "t")
	delete(msg.GetProposedMessage().Metadata, "content-type")
	a, err := c.Append(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Send(options("s", "any"))
	_ = a.Send(msg)
	_, err = a.CloseAndRecv()
	if status.Code(err) != codes.InvalidArgument || a.Trailer().Get("exception")[0] != "missing-required-metadata-property" {
		t.Errorf("got %v, trailer %v; want InvalidArgument, missing-required-metadata-property", err, a.Trailer())
	}
}

func readOptions(stream string) *streams.ReadReq {
	return &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 100},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}},
	}}
}

func readAll(t *testing.T, r streams.Streams_ReadClient) []*streams.ReadResp {
	t.Helper()
	var out []*streams.ReadResp
	for {
		m, err := r.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		out = append(out, m)
	}
}

func TestReads(t *testing.T) {
	t.Parallel()
	c, _ := dial(t)
	appendIDs(t, c, "s", "no_stream", uuid.New(), uuid.New())

	r, err := c.Read(t.Context(), readOptions("missing"))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 1 || string(got[0].GetStreamNotFound().GetStreamIdentifier().GetStreamName()) != "missing" {
		t.Errorf("read of a missing stream: %v, want stream_not_found only", got)
	}

	r, err = c.Read(t.Context(), readOptions("s"))
	if err != nil {
		t.Fatal(err)
	}
	got = readAll(t, r)
	if len(got) != 2 {
		t.Fatalf("read: %v, want 2 events", got)
	}
	for _, m := range got {
		e := m.GetEvent().GetEvent()
		if e.GetMetadata()["type"] != "t" || e.GetMetadata()["content-type"] != "application/json" || e.GetMetadata()["created"] == "" {
			t.Errorf("event metadata %v, want type, content-type and created", e.GetMetadata())
		}
		if e.GetId().GetStructured() == nil || m.GetEvent().GetCommitPosition() != e.GetCommitPosition() {
			t.Errorf("event %v: want a structured id and its commit position", m)
		}
	}

	noFilter := readOptions("s")
	noFilter.Options.FilterOption = nil
	r, err = c.Read(t.Context(), noFilter)
	if err == nil {
		_, err = r.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("read without a filter option: %v, want InvalidArgument (no combination matches)", err)
	}
}

// TestFilteredSubscription: confirmation first, then the stored events
// that pass the filter, a checkpoint and caught_up, then live events, with
// checkpoints every multiplier × window events considered.
func TestFilteredSubscription(t *testing.T) {
	t.Parallel()
	c, srv := dial(t)
	keep := uuid.New()
	appendIDs(t, c, "keep-1", "any", keep)
	for range 5 {
		appendIDs(t, c, "drop-1", "any", uuid.New())
	}
	req := &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{
			AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption: &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
		FilterOption: &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
			Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{
				Prefix: []string{"keep-"},
			}},
			Window:                       &streams.ReadReq_Options_FilterOptions_Max{Max: 2},
			CheckpointIntervalMultiplier: 2,
		}},
		UuidOption: &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}}
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	sub, err := c.Read(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	next := func() *streams.ReadResp {
		t.Helper()
		m, err := sub.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		return m
	}
	if next().GetConfirmation().GetSubscriptionId() == "" {
		t.Fatal("the first message is not the confirmation")
	}
	var kinds []string
	for {
		m := next()
		switch {
		case m.GetEvent() != nil:
			if m.GetEvent().GetEvent().GetId().GetString_() != keep.String() {
				t.Errorf("event %v, want only %s, as a string", m.GetEvent(), keep)
			}
			kinds = append(kinds, "event")
		case m.GetCheckpoint() != nil:
			kinds = append(kinds, "checkpoint")
		case m.GetCaughtUp() != nil:
			kinds = append(kinds, "caught_up")
		}
		if kinds[len(kinds)-1] == "caught_up" {
			break
		}
	}
	// 3 system events + 6 of ours considered: the event (the 4th), a
	// checkpoint after the 4th and the 8th, and one on catching up.
	want := "[event checkpoint checkpoint checkpoint caught_up]"
	if got := fmt.Sprint(kinds); got != want {
		t.Errorf("catch-up sent %s, want %s", got, want)
	}
	live := uuid.New()
	appendIDs(t, c, "keep-2", "any", live)
	if m := next(); m.GetEvent().GetEvent().GetId().GetString_() != live.String() {
		t.Errorf("live: %v, want %s", m, live)
	}
	if srv.Subscriptions() != 1 {
		t.Errorf("%d subscriptions served, want 1", srv.Subscriptions())
	}
}
