package postgres

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/senapred-valparaiso/vigia/domain"
	"github.com/senapred-valparaiso/vigia/projections"
)

// Log entries are most of what a read model writes: each is a row of
// rm_log, and all of a day's are its log stream's state in rm_streams, so
// a replay of a year writes every entry twice. They are encoded here,
// straight into the caller's buffer, byte for byte as encoding/json
// encodes them (TestLogEntryJSONIsWhatJSONMarshalWrites holds them to
// that, and fails when domain.LogEntry or domain.Log gains a field),
// instead of through reflection and a fresh slice each time.

// appendState appends st's JSON to b, byte for byte what json.Marshal
// returns.
func appendState(b []byte, st *projections.StreamState) ([]byte, error) {
	if st.Log == nil || st.Alert != nil || st.Roster != nil || st.Informe != nil || st.User != nil {
		raw, err := json.Marshal(st)
		return append(b, raw...), err
	}
	b = append(b, `{"log":{"Date":`...)
	b = appendJSONString(b, st.Log.Date)
	b = append(b, `,"Entries":`...)
	if st.Log.Entries == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, '[')
		for i, e := range st.Log.Entries {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendLogEntry(b, e); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	return append(b, `}}`...), nil
}

// appendLogEntry appends e's JSON (null for nil) to b: that of
// projections.LogEntryView{*e} too, which has no field of its own.
func appendLogEntry(b []byte, e *domain.LogEntry) ([]byte, error) {
	if e == nil {
		return append(b, `null`...), nil
	}
	var err error
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"date":`...)
	b = appendJSONString(b, e.Date)
	b = append(b, `,"category":`...)
	b = appendJSONString(b, string(e.Category))
	b = append(b, `,"text":`...)
	b = appendJSONString(b, e.Text)
	b = append(b, `,"comunas":`...)
	if e.Comunas == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, '[')
		for i, c := range e.Comunas {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c)
		}
		b = append(b, ']')
	}
	if e.AlertID != "" {
		b = append(b, `,"alert_id":`...)
		b = appendJSONString(b, e.AlertID)
	}
	b = append(b, `,"by":`...)
	b = appendJSONString(b, e.By)
	b = append(b, `,"at":"`...)
	if b, err = e.At.AppendText(b); err != nil {
		return b, err
	}
	b = append(b, `","version":`...)
	b = strconv.AppendUint(b, e.Version, 10)
	b = append(b, `,"corrected":`...)
	b = strconv.AppendBool(b, e.Corrected)
	if e.CorrectedBy != "" {
		b = append(b, `,"corrected_by":`...)
		b = appendJSONString(b, e.CorrectedBy)
	}
	// omitempty leaves a struct (a time) in.
	b = append(b, `,"corrected_at":"`...)
	if b, err = e.CorrectedAt.AppendText(b); err != nil {
		return b, err
	}
	b = append(b, '"')
	if e.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, e.Reason)
	}
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string: quoted,
// with <, > and & escaped, invalid UTF-8 as \ufffd, and U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
