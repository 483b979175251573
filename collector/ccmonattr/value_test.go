package ccmonattr

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"toolong", 3, "too"},
		{"caf\xe9", 10, "caf\uFFFD"},        // invalid UTF-8 made valid, also when short
		{"naïve", 3, "na"},                  // never half a character
		{strings.Repeat("é", 100), 5, "éé"}, // 2-byte characters: 4 bytes fit
		{"\xff\xfe", 10, "\uFFFD"},          // a run of invalid bytes is one replacement
	} {
		got := Truncate(c.in, c.max)
		if got != c.want || !utf8.ValidString(got) || len(got) > c.max && len(c.in) > c.max {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
