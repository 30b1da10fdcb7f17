package esdbtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The node's ExpectedVersion constants, as Streams.Append.cs maps the
// request's expected_stream_revision onto them.
const (
	expectedAny          int64 = -2
	expectedNoStream     int64 = -1
	expectedStreamExists int64 = -4
)

// maxAppendSize is the node's default MaxAppendSize (1 MiB).
const maxAppendSize = 1 << 20

// streamsService implements the Streams service on a Server.
type streamsService struct {
	streams.UnimplementedStreamsServer
	s *Server
}

// handlerError is what grpc-dotnet answers when a handler throws an
// exception that is not an RpcException (the node's InvalidOperationException
// for a malformed append).
func handlerError(msg string) error {
	return status.Error(codes.Unknown, "Exception was thrown by handler. "+msg)
}

// Append implements Streams.Append: options first, then the proposed
// messages, then one answer.
func (svc *streamsService) Append(stream streams.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return handlerError("InvalidOperationException: no append options")
		}
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return handlerError("InvalidOperationException: the first append message is not its options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "stream name is empty")
	}
	var expected int64
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		// StreamRevision.ToInt64: values above MaxInt64 wrap, as in .NET.
		expected = int64(o.Revision)
		if expected < 0 && expected != expectedNoStream {
			return status.Errorf(codes.InvalidArgument, "invalid expected revision %d", o.Revision)
		}
	case *streams.AppendReq_Options_NoStream:
		expected = expectedNoStream
	case *streams.AppendReq_Options_Any:
		expected = expectedAny
	case *streams.AppendReq_Options_StreamExists:
		expected = expectedStreamExists
	default:
		return status.Errorf(codes.InvalidArgument, "'%T' is not a valid expected stream revision", o)
	}

	var events []proposed
	size := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		msg := req.GetProposedMessage()
		if msg == nil {
			return handlerError("InvalidOperationException: append options sent twice")
		}
		typ, ok := msg.GetMetadata()["type"]
		if !ok {
			return missingMetadata(stream, "type")
		}
		contentType, ok := msg.GetMetadata()["content-type"]
		if !ok {
			return missingMetadata(stream, "content-type")
		}
		id, err := fromProtoUUID(msg.GetId())
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "event id: %v", err)
		}
		p := proposed{id: id, typ: typ, json: contentType == "application/json", data: msg.GetData(), meta: msg.GetCustomMetadata()}
		size += len(p.typ) + len(p.data) + len(p.meta)
		if size > maxAppendSize {
			_ = grpc.SetTrailer(stream.Context(), metadata.Pairs(
				"exception", "maximum-append-size-exceeded",
				"maximum-append-size", fmt.Sprint(maxAppendSize)))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", maxAppendSize)
		}
		events = append(events, p)
	}
	return stream.SendAndClose(svc.s.append(name, expected, events))
}

func missingMetadata(stream grpc.ServerStream, key string) error {
	_ = grpc.SetTrailer(stream.Context(), metadata.Pairs(
		"exception", "missing-required-metadata-property",
		"required-metadata-properties", "type,content-type"))
	return status.Errorf(codes.InvalidArgument, "Required Metadata Property '%s' is missing", key)
}

// decision is IndexWriter.CheckCommit's answer.
type decision int

const (
	decisionOK decision = iota
	decisionWrongExpectedVersion
	decisionCorruptedIdempotency
	decisionIdempotent
)

// append decides and performs one append under the writer lock.
func (s *Server) append(stream string, expected int64, events []proposed) *streams.AppendResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	current := int64(len(s.streams[stream])) - 1 // -1: no stream
	d, end := s.checkCommit(stream, current, expected, events)
	switch d {
	case decisionIdempotent:
		r := s.streams[stream][end]
		return success(int64(r.revision), r.pos)
	case decisionWrongExpectedVersion, decisionCorruptedIdempotency:
		// StorageWriterService answers corrupted idempotency as a wrong
		// expected version ("the transaction is not idempotent, so
		// WrongExpectedVersion is ok answer").
		return wrongExpectedVersion(expected, current)
	}
	if len(events) == 0 {
		// The node writes an empty transaction and answers its position.
		pos := s.head
		s.head += recordSize(stream, proposed{})
		return success(current, pos)
	}
	s.write(stream, events)
	last := s.streams[stream][len(s.streams[stream])-1]
	return success(int64(last.revision), last.pos)
}

// checkCommit transcribes IndexWriter.CheckCommit for a stream that is
// neither deleted nor soft-deleted. For decisionIdempotent, end is the
// revision of the stored event matching the last proposed ID.
func (s *Server) checkCommit(stream string, current, expected int64, events []proposed) (decision, int64) {
	if expected == expectedStreamExists && current < 0 {
		// (The node also accepts it when the stream has metadata but no
		// events; stream metadata is not modelled.)
		return decisionWrongExpectedVersion, 0
	}
	if expected == expectedAny || expected == expectedStreamExists {
		var end int64 = -1
		for i, e := range events {
			c, ok := s.ids[e.id]
			if !ok || c.stream != stream {
				if i == 0 {
					return decisionOK, 0
				}
				return decisionCorruptedIdempotency, 0
			}
			end = c.revision
		}
		if len(events) == 0 {
			return decisionOK, 0
		}
		return decisionIdempotent, end
	}
	if expected < current {
		n := expected
		for _, e := range events {
			n++
			if c, ok := s.ids[e.id]; ok && c.stream == stream && c.revision == n {
				continue
			}
			// _indexReader.ReadPrepare(stream, n): the stored event, which
			// survives restarts unlike the ID cache.
			if n <= current && s.streams[stream][n].id == e.id {
				continue
			}
			if n != expected+1 {
				return decisionCorruptedIdempotency, 0
			}
			return decisionWrongExpectedVersion, 0
		}
		if n == expected { // no events
			return decisionWrongExpectedVersion, 0
		}
		return decisionIdempotent, n
	}
	if expected > current {
		return decisionWrongExpectedVersion, 0
	}
	return decisionOK, 0
}

func success(revision int64, pos uint64) *streams.AppendResp {
	ok := &streams.AppendResp_Success{
		PositionOption: &streams.AppendResp_Success_Position{
			Position: &streams.AppendResp_Position{CommitPosition: pos, PreparePosition: pos},
		},
	}
	if revision < 0 {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(revision)}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}}
}

// wrongExpectedVersion builds the payload as Streams.Append.cs does,
// deprecated 20.6.0 fields included.
func wrongExpectedVersion(expected, current int64) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	switch expected {
	case expectedAny:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectedStreamExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectedNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	default:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: uint64(expected)}
	}
	if current < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

// fromProtoUUID decodes an event ID in either wire form: structured (the
// two big-endian halves, as the clients send it) or a string.
func fromProtoUUID(u *shared.UUID) (uuid.UUID, error) {
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(v.Structured.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(v.Structured.GetLeastSignificantBits()))
		return id, nil
	case *shared.UUID_String_:
		return uuid.Parse(strings.TrimSpace(v.String_))
	}
	return uuid.Nil, errors.New("missing")
}

// toProtoUUID encodes an event ID in the form a read asked for.
func toProtoUUID(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}
