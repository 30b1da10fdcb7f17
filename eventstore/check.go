package eventstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// CheckAppend validates an append as every adapter does before it touches
// storage: a stream name that is not empty nor reserved ($…), at least one
// event, and for each event an ID, not repeated in the append, and a type.
// each, called for every event in order once those checks pass, adds the
// adapter's own checks and lays the event out; its error is returned.
func CheckAppend(stream string, events []EventData, each func(i int, e EventData) error) error {
	switch {
	case stream == "":
		return errors.New("empty stream name")
	case strings.HasPrefix(stream, "$"):
		return errors.New("stream names starting with $ are reserved")
	case len(events) == 0:
		return errors.New("no events")
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			return fmt.Errorf("event %d has no id", i)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: %s twice in one append", ErrDuplicateEvent, e.ID)
		}
		seen[e.ID] = struct{}{}
		if e.Type == "" {
			return fmt.Errorf("event %s has no type", e.ID)
		}
		if err := each(i, e); err != nil {
			return err
		}
	}
	return nil
}
