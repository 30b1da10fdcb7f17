package command

import (
	"errors"
	"fmt"

	"github.com/senapred-valparaiso/vigia/domain"
)

// Item is what a client edits and knows the version of (the ETag it read):
// a whole stream, or one part of a stream's aggregate. A stream has a
// revision; an item has a version, which for a whole stream is its
// revision.
type Item interface {
	// Version is the item's version in the loaded state, and whether the
	// item is there.
	Version(l Loaded) (version uint64, present bool)
	// String names the item within its stream ("" for the whole stream).
	String() string
}

// Stream is a whole stream as the item (an alert, a user): its version is
// the stream's revision, and it is there once the stream has an event.
type Stream struct{}

// Version implements Item.
func (Stream) Version(l Loaded) (uint64, bool) { return l.Revision, l.Exists() }

func (Stream) String() string { return "" }

// Slot is one slot of a day roster (stream roster-<Date>): its version
// counts its changes and keeps growing when it is emptied, and it is there
// while assigned. Date is carried so that a refusal can show the slot of a
// day that has no roster yet.
type Slot struct {
	Date, Name string
}

// Version implements Item.
func (s Slot) Version(l Loaded) (uint64, bool) {
	r, ok := l.State.(*domain.Roster)
	if !ok {
		return 0, false
	}
	return r.SlotVersion(s.Name)
}

func (s Slot) String() string { return "slot " + s.Name }

// LogEntry is one entry of a day log, by ID: its version counts its
// corrections from 1.
type LogEntry struct {
	ID string
}

// Version implements Item.
func (e LogEntry) Version(l Loaded) (uint64, bool) {
	lg, ok := l.State.(*domain.Log)
	if !ok {
		return 0, false
	}
	if x := lg.Entry(e.ID); x != nil {
		return x.Version, true
	}
	return 0, false
}

func (e LogEntry) String() string { return "log entry " + e.ID }

// ErrStale matches every *StaleError.
var ErrStale = errors.New("stale version")

// StaleError refuses an edit made on an out-of-date version of an item. It
// carries what the client needs to be shown what changed: the current
// state the edit was refused on (the whole aggregate, and the envelope of
// its last event), which item, and the item's current version (its new
// ETag).
type StaleError struct {
	Loaded
	Item Item
	// Expected is the version the client's edit was made on (If-Match);
	// with ExpectedAbsent, the client expected no item at all
	// (If-None-Match: *).
	Expected       uint64
	ExpectedAbsent bool
	// Actual is the item's current version.
	Actual uint64
}

func (e *StaleError) Error() string {
	expected := fmt.Sprint(e.Expected)
	if e.ExpectedAbsent {
		expected = "none"
	}
	return fmt.Sprintf("%s: %s: expected %s, actual %d", where(e.Stream, e.Item), ErrStale, expected, e.Actual)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// where names an item in error messages: its stream, then the item.
func where(stream string, item Item) string {
	if s := item.String(); s != "" {
		return stream + " " + s
	}
	return stream
}

// IfVersion is the usual precondition (If-Match): the item must be there,
// else an error matching domain.ErrNotFound, and at version v, else a
// *StaleError.
func IfVersion(item Item, v uint64) Precondition {
	return func(l Loaded) error {
		cur, present := item.Version(l)
		if !present {
			return fmt.Errorf("%s: %w", where(l.Stream, item), domain.ErrNotFound)
		}
		if cur != v {
			return &StaleError{Loaded: l, Item: item, Expected: v, Actual: cur}
		}
		return nil
	}
}

// IfVersionEvenIfAbsent is IfVersion for an item that keeps its version
// when it is gone: a roster slot emptied at version v may be assigned again
// by a client that saw it empty at v. It never fails with not found.
func IfVersionEvenIfAbsent(item Item, v uint64) Precondition {
	return func(l Loaded) error {
		if cur, _ := item.Version(l); cur != v {
			return &StaleError{Loaded: l, Item: item, Expected: v, Actual: cur}
		}
		return nil
	}
}

// IfAbsent (If-None-Match: *): the item must not be there, else a
// *StaleError.
func IfAbsent(item Item) Precondition {
	return func(l Loaded) error {
		if cur, present := item.Version(l); present {
			return &StaleError{Loaded: l, Item: item, ExpectedAbsent: true, Actual: cur}
		}
		return nil
	}
}
