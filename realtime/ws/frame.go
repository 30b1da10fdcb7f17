package ws

import (
	"encoding/binary"
	"encoding/json"

	fws "github.com/fasthttp/websocket"

	"github.com/senapred-valparaiso/vigia/notice"
)

// WebSocket opcodes (RFC 6455 §5.2) of the frames the hub writes itself.
//
// The hub frames what it sends instead of going through the WebSocket
// library's message writer: a notice is encoded once, header included, and
// the same bytes go to every client and into the history, so fanning one out
// costs each client one write system call and nothing else.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// appendFrame appends one final, unmasked frame (server to client frames are
// never masked) with the given opcode and payload.
func appendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// textFrame is payload as one text frame.
func textFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), opText, payload)
}

// closeFrame is a close frame with code and reason (reason at most
// maxCloseReason bytes). Code CloseNoStatusReceived gives an empty payload.
func closeFrame(code int, reason string) []byte {
	return appendFrame(nil, opClose, fws.FormatCloseMessage(code, reason))
}

// encodeFrame marshals m as the text frame clients receive.
func encodeFrame(m notice.Message) ([]byte, error) {
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return textFrame(payload), nil
}

// Frames that never change.
var (
	pingFrame     = appendFrame(nil, opPing, nil)
	pongFrame     = textFrame([]byte(`{"type":"` + TypePong + `"}`))
	degradedFrame = textFrame([]byte(`{"type":"` + TypeDegraded + `"}`))
)
