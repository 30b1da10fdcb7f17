package esdbtest

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// batch is how many records a subscription takes from memory at a time.
const batch = 256

// readBatchSize is the node's ReadBatchSize, the default search window of
// a filtered subscription.
const readBatchSize = 32

// Read implements Streams.Read: stream and $all reads with a count, and
// $all subscriptions, dispatched on the same (stream option, count option,
// direction, filter option) combinations as Streams.Read.cs.
func (svc *streamsService) Read(req *streams.ReadReq, out streams.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "'options' is required")
	}
	if o.GetUuidOption() == nil {
		return status.Error(codes.InvalidArgument, "'uuidOption' is required")
	}
	asString := o.GetUuidOption().GetString_() != nil
	if o.GetFilterOption() == nil {
		// Neither filter nor no_filter: no combination matches.
		return status.Error(codes.InvalidArgument, "invalid combination: no filter option")
	}
	filtered := o.GetFilter() != nil
	forwards := o.GetReadDirection() == streams.ReadReq_Options_Forwards
	_, subscription := o.GetCountOption().(*streams.ReadReq_Options_Subscription)
	_, counted := o.GetCountOption().(*streams.ReadReq_Options_Count)
	switch {
	case o.GetStream() != nil && counted && !filtered:
		return svc.s.readStream(o.GetStream(), forwards, o.GetCount(), asString, out)
	case o.GetAll() != nil && counted:
		f, err := newFilter(o.GetFilter())
		if err != nil {
			return err
		}
		return svc.s.readAll(o.GetAll(), forwards, o.GetCount(), f, asString, out)
	case o.GetAll() != nil && subscription && forwards:
		f, err := newFilter(o.GetFilter())
		if err != nil {
			return err
		}
		interval := uint64(0)
		if filtered {
			if o.GetFilter().GetCheckpointIntervalMultiplier() == 0 {
				// AllSubscriptionFiltered throws ArgumentOutOfRange.
				return handlerError("ArgumentOutOfRangeException: checkpointIntervalMultiplier is 0")
			}
			window := uint64(readBatchSize)
			if m, ok := o.GetFilter().GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok {
				window = uint64(m.Max)
			}
			interval = uint64(o.GetFilter().GetCheckpointIntervalMultiplier()) * window
		}
		return svc.s.subscribeAll(o.GetAll(), f, interval, asString, out)
	case o.GetStream() != nil && subscription:
		return status.Error(codes.Unimplemented, "esdbtest: stream subscriptions are not modelled")
	}
	return status.Errorf(codes.InvalidArgument, "invalid combination of read options")
}

// readStream answers a stream read: the events, or stream_not_found.
func (s *Server) readStream(o *streams.ReadReq_Options_StreamOptions, forwards bool, count uint64, asString bool, out streams.Streams_ReadServer) error {
	name := string(o.GetStreamIdentifier().GetStreamName())
	s.mu.Lock()
	evs := s.streams[name]
	s.mu.Unlock()
	if len(evs) == 0 {
		return out.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
			StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}},
		}})
	}
	last := uint64(len(evs) - 1)
	var picked []*record
	if forwards {
		from := uint64(0)
		switch r := o.GetRevisionOption().(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			from = r.Revision
		case *streams.ReadReq_Options_StreamOptions_End:
			from = last + 1
		}
		for i := from; i <= last && uint64(len(picked)) < count; i++ {
			picked = append(picked, evs[i])
		}
	} else {
		from := last
		switch r := o.GetRevisionOption().(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			from = min(r.Revision, last)
		case *streams.ReadReq_Options_StreamOptions_Start:
			from = 0
		}
		for i := int64(from); i >= 0 && uint64(len(picked)) < count; i-- {
			picked = append(picked, evs[i])
		}
	}
	for _, r := range picked {
		if err := out.Send(eventResp(r, asString)); err != nil {
			return err
		}
	}
	return nil
}

// readAll answers a $all read. Forwards it reads from a position
// inclusive; backwards, the events strictly before it.
func (s *Server) readAll(o *streams.ReadReq_Options_AllOptions, forwards bool, count uint64, f *filter, asString bool, out streams.Streams_ReadServer) error {
	s.mu.Lock()
	log := s.log
	s.mu.Unlock()
	var picked []*record
	if forwards {
		i := 0
		switch a := o.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			i = firstAtOrAfter(log, tfpos{a.Position.GetCommitPosition(), a.Position.GetPreparePosition()})
		case *streams.ReadReq_Options_AllOptions_End:
			i = len(log)
		}
		for ; i < len(log) && uint64(len(picked)) < count; i++ {
			if f.match(log[i]) {
				picked = append(picked, log[i])
			}
		}
	} else {
		i := len(log) - 1
		switch a := o.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			i = firstAtOrAfter(log, tfpos{a.Position.GetCommitPosition(), a.Position.GetPreparePosition()}) - 1
		case *streams.ReadReq_Options_AllOptions_Start:
			i = -1
		}
		for ; i >= 0 && uint64(len(picked)) < count; i-- {
			if f.match(log[i]) {
				picked = append(picked, log[i])
			}
		}
	}
	for _, r := range picked {
		if err := out.Send(eventResp(r, asString)); err != nil {
			return err
		}
	}
	return nil
}

// subscribeAll serves a catch-up subscription to $all: confirmation, the
// stored events after the start, caught_up, then live events. interval > 0
// (filtered subscriptions) sends a checkpoint every interval events
// considered, and one on catching up.
func (s *Server) subscribeAll(o *streams.ReadReq_Options_AllOptions, f *filter, interval uint64, asString bool, out streams.Streams_ReadServer) error {
	ctx := out.Context()
	id := uuid.NewString()
	s.mu.Lock()
	s.subs[id] = struct{}{}
	var after tfpos
	started := false // false: from the start, before every record
	switch a := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		after, started = tfpos{a.Position.GetCommitPosition(), a.Position.GetPreparePosition()}, true
	case *streams.ReadReq_Options_AllOptions_End:
		if n := len(s.log); n > 0 {
			after, started = s.log[n-1].tfpos(), true
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}()

	if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: id},
	}}); err != nil {
		return err
	}
	var considered uint64
	var checkpoint tfpos // the last checkpoint sent
	caughtUp := false
	sendCheckpoint := func() error {
		if !started || !checkpoint.less(after) {
			return nil
		}
		checkpoint = after
		return out.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{
			Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: after.commit, PreparePosition: after.prepare},
		}})
	}
	for {
		s.mu.Lock()
		wake := s.changed
		i := 0
		if started {
			i = firstAfter(s.log, after)
		}
		recs := s.log[i:min(i+batch, len(s.log))]
		s.mu.Unlock()
		for _, r := range recs {
			after, started = r.tfpos(), true
			if f.match(r) {
				if err := out.Send(eventResp(r, asString)); err != nil {
					return err
				}
			}
			if interval > 0 {
				considered++
				if considered >= interval {
					considered = 0
					if err := sendCheckpoint(); err != nil {
						return err
					}
				}
			}
		}
		if len(recs) == batch {
			continue // still catching up
		}
		if !caughtUp {
			caughtUp = true
			if interval > 0 {
				if err := sendCheckpoint(); err != nil {
					return err
				}
			}
			if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

// firstAtOrAfter is the index in log of the first record at or after p.
func firstAtOrAfter(log []*record, p tfpos) int {
	return sort.Search(len(log), func(i int) bool { return !log[i].tfpos().less(p) })
}

// firstAfter is the index in log of the first record strictly after p.
func firstAfter(log []*record, p tfpos) int {
	return sort.Search(len(log), func(i int) bool { return p.less(log[i].tfpos()) })
}

// eventResp is a read answer carrying one event, as ConvertToReadEvent
// builds it for an event that is not a link.
func eventResp(r *record, asString bool) *streams.ReadResp {
	contentType := "application/octet-stream"
	if r.json {
		contentType = "application/json"
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               toProtoUUID(r.id, asString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.pos,
			CommitPosition:   r.pos,
			Metadata: map[string]string{
				"type":         r.typ,
				"created":      strconv.FormatInt(r.created, 10),
				"content-type": contentType,
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}}}
}

// filter is a server-side $all filter (EventFilter). A nil filter passes
// everything.
type filter struct {
	onType   bool
	prefixes []string
	re       *regexp.Regexp
}

func newFilter(o *streams.ReadReq_Options_FilterOptions) (*filter, error) {
	if o == nil {
		return nil, nil
	}
	f := &filter{}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	switch v := o.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = v.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		expr, f.onType = v.EventType, true
	default:
		return nil, status.Error(codes.InvalidArgument, "invalid filter")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, handlerError("RegexParseException: " + err.Error())
		}
		f.re = re
		return f, nil
	}
	f.prefixes = expr.GetPrefix()
	return f, nil
}

// match applies the node's default $all rules, then the filter.
func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	if strings.HasPrefix(r.stream, "$") && (r.stream == "$epoch-information" ||
		(strings.HasPrefix(r.stream, "$persistentsubscription-$all::") &&
			(strings.HasSuffix(r.stream, "-checkpoint") || strings.HasSuffix(r.stream, "-parked")))) {
		return false
	}
	subject := r.stream
	if f.onType {
		subject = r.typ
	}
	if f.re != nil {
		return f.re.MatchString(subject)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}
