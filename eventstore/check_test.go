package eventstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCheckAppend(t *testing.T) {
	a, b := EventData{ID: uuid.New(), Type: "a"}, EventData{ID: uuid.New(), Type: "b"}
	var saw []string
	if err := CheckAppend("s", []EventData{a, b}, func(i int, e EventData) error {
		saw = append(saw, e.Type)
		return nil
	}); err != nil || strings.Join(saw, ",") != "a,b" {
		t.Fatalf("valid append: %v, saw %v; want nil, a,b", err, saw)
	}
	bad := errors.New("adapter says no")
	for name, tc := range map[string]struct {
		stream string
		events []EventData
		want   string
	}{
		"no stream":    {"", []EventData{a}, "empty stream name"},
		"reserved":     {"$all", []EventData{a}, "reserved"},
		"no events":    {"s", nil, "no events"},
		"no id":        {"s", []EventData{a, {Type: "x"}}, "event 1 has no id"},
		"repeated id":  {"s", []EventData{a, a}, "twice in one append"},
		"no type":      {"s", []EventData{{ID: a.ID}}, "has no type"},
		"adapter says": {"s", []EventData{a, b}, bad.Error()},
	} {
		err := CheckAppend(tc.stream, tc.events, func(i int, e EventData) error {
			if i == 1 {
				return bad
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if err := CheckAppend("s", []EventData{a, a}, func(int, EventData) error { return nil }); !errors.Is(err, ErrDuplicateEvent) {
		t.Errorf("repeated id: %v, want ErrDuplicateEvent", err)
	}
}
