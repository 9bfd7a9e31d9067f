package spec

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxQuoted is the most characters of a manifest value a message quotes.
// Values come from whoever wrote the manifest (a pull request): a longer
// one is cut, so a 1 MB name cannot flood a terminal or a CI log.
const MaxQuoted = 120

// Truncate quotes a value for a message, cut after MaxQuoted characters
// and marked with how much was shown: "abc…" (120 of 1,000,152 bytes).
func Truncate(s string) string {
	if utf8.RuneCountInString(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	cut, n := 0, 0
	for i := range s {
		if n == MaxQuoted {
			cut = i
			break
		}
		n++
	}
	return strconv.Quote(s[:cut]+"…") + " (" + strconv.Itoa(MaxQuoted) + " of " + groupThousands(len(s)) + " bytes)"
}

// Hidden describes a value that must not be shown at all (it sits in a
// secret reference or failed a check in a secret field, so it may be the
// secret itself): only its length.
func Hidden(s string) string {
	return "(value not shown, " + groupThousands(len(s)) + " bytes)"
}

// groupThousands writes n with comma separators (1,000,152).
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
