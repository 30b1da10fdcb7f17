package postgres

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rows reach the tables through a rowSink, one typed field at a time, in
// the table's column order: encoded straight into COPY's binary format
// (copyWriter) for a rebuild's bulk load, or gathered into one array per
// column (columns) for an upsert through unnest. Neither boxes a value or
// allocates per row, which kept a rebuild busy collecting garbage when
// every row was a []any.
type rowSink interface {
	text(s string)
	json(raw []byte) // a json column's value, as the bytes to store
	int64(v int64)
	int32(v int32)
	bool(v bool)
	time(t time.Time)
	// end ends a row; the first error of its fields, if any.
	end() error
}

// copyWriter encodes rows in COPY's binary format.
type copyWriter struct {
	w    *bufio.Writer
	cols int
	n    int // fields written in the current row
	err  error
	b    [8]byte
}

// pgEpoch is where timestamptz counts microseconds from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func (c *copyWriter) field(size int) {
	if c.n == 0 {
		binary.BigEndian.PutUint16(c.b[:2], uint16(c.cols))
		c.write(c.b[:2])
	}
	c.n++
	binary.BigEndian.PutUint32(c.b[:4], uint32(size))
	c.write(c.b[:4])
}

func (c *copyWriter) write(p []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
	}
}

func (c *copyWriter) text(s string) {
	c.field(len(s))
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

// json writes a json column: its binary form is its text.
func (c *copyWriter) json(raw []byte) {
	c.field(len(raw))
	c.write(raw)
}

func (c *copyWriter) int64(v int64) {
	c.field(8)
	binary.BigEndian.PutUint64(c.b[:], uint64(v))
	c.write(c.b[:])
}

func (c *copyWriter) int32(v int32) {
	c.field(4)
	binary.BigEndian.PutUint32(c.b[:4], uint32(v))
	c.write(c.b[:4])
}

func (c *copyWriter) bool(v bool) {
	c.field(1)
	c.b[0] = 0
	if v {
		c.b[0] = 1
	}
	c.write(c.b[:1])
}

// time writes whole microseconds, rounded down, as pgx does.
func (c *copyWriter) time(t time.Time) {
	us := (t.Unix()-pgEpoch)*1_000_000 + int64(t.Nanosecond()/1000)
	c.int64(us)
}

func (c *copyWriter) end() error {
	if c.err == nil && c.n != c.cols {
		c.err = fmt.Errorf("copy: a row of %d fields, want %d", c.n, c.cols)
	}
	c.n = 0
	return c.err
}

// copyHeader starts COPY's binary format: the signature, no flags, no
// header extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyBinary copies into table the rows produce writes to its sink (its
// columns in cols' order), streamed: produce runs in a goroutine of its
// own while the connection sends what it wrote so far.
func copyBinary(ctx context.Context, tx pgx.Tx, table string, cols []column, produce func(s rowSink) error) error {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
	}
	sql := `COPY ` + pgx.Identifier{table}.Sanitize() + ` (` + strings.Join(names, ", ") + `) FROM STDIN (FORMAT binary)`
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		bw := bufio.NewWriterSize(pw, 64<<10)
		c := &copyWriter{w: bw, cols: len(cols)}
		c.write(copyHeader)
		err := c.err
		if err == nil {
			err = produce(c)
		}
		if err == nil {
			binary.BigEndian.PutUint16(c.b[:2], 0xffff) // the trailer
			c.write(c.b[:2])
			if err = c.err; err == nil {
				err = bw.Flush()
			}
		}
		pw.CloseWithError(err) // nil: EOF
	}()
	_, err := tx.Conn().PgConn().CopyFrom(ctx, pr, sql)
	pr.CloseWithError(io.ErrClosedPipe) // unblock produce if the copy ended early
	<-done
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// columns gathers rows as one slice per column, of the column's type
// (json as text: upsertSQL casts it), for unnest.
type columnSink struct {
	cols []any
	i    int
}

func newColumnSink(cols []column) *columnSink {
	s := &columnSink{cols: make([]any, len(cols))}
	for i, c := range cols {
		switch c.typ {
		case tText, tJSON:
			s.cols[i] = []string{}
		case tBigint:
			s.cols[i] = []int64{}
		case tInt:
			s.cols[i] = []int32{}
		case tBool:
			s.cols[i] = []bool{}
		case tTime:
			s.cols[i] = []time.Time{}
		}
	}
	return s
}

// next moves to the next column; a field of the wrong type panics, a
// programming error that every upsert in the tests would show.
func (s *columnSink) next() int {
	s.i++
	return s.i - 1
}

func (s *columnSink) text(v string) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]string), v)
}

func (s *columnSink) json(raw []byte) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]string), string(raw))
}

func (s *columnSink) int64(v int64) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]int64), v)
}

func (s *columnSink) int32(v int32) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]int32), v)
}

func (s *columnSink) bool(v bool) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]bool), v)
}

func (s *columnSink) time(v time.Time) {
	i := s.next()
	s.cols[i] = append(s.cols[i].([]time.Time), v)
}

func (s *columnSink) end() error {
	if s.i != len(s.cols) {
		return fmt.Errorf("upsert: a row of %d fields, want %d", s.i, len(s.cols))
	}
	s.i = 0
	return nil
}

// len is how many rows the sink holds.
func (s *columnSink) len() int {
	if len(s.cols) == 0 {
		return 0
	}
	switch v := s.cols[0].(type) {
	case []string:
		return len(v)
	case []int64:
		return len(v)
	}
	return 0
}
