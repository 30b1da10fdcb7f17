package domain

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ValidationError reports bad input, field by field. Messages are written
// for the operator, in Spanish (es-CL), because the UI shows them as they are.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// fieldErrors collects field messages; err returns nil when there are none.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// ErrRule matches every broken business rule (an edit of a cancelled alert,
// overlapping shifts, …): the input is well formed but the current state
// does not allow it. The web layer answers 409.
var ErrRule = errors.New("rule violated")

// RuleError is a broken business rule with a message for the operator.
type RuleError struct {
	// Code is a stable machine-readable name, e.g. "alert_cancelled".
	Code string
	// Message is shown to the operator (Spanish).
	Message string
}

func (e *RuleError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, ErrRule) true.
func (e *RuleError) Is(target error) bool { return target == ErrRule }

// ErrNotFound is returned when a command addresses something that does not
// exist (an alert never declared, a log entry that is not there).
var ErrNotFound = errors.New("not found")

// ErrUnknownCommand is returned when an aggregate is handed a command it does
// not handle: a programming error, not a user's.
var ErrUnknownCommand = errors.New("unknown command")
