// Package ccmonattr holds what otel-ccmon's collector components do alike to attribute values:
// one truncation, so that a label value is cut and made valid UTF-8 the same way by the
// cardinality guard, the claudecode processor and the claudecode_events connector.
package ccmonattr

import (
	"strings"
	"unicode/utf8"
)

// Truncate returns s as a valid UTF-8 string of at most max bytes: invalid bytes become U+FFFD
// (Prometheus label values must be UTF-8), and a cut never splits a character.
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
