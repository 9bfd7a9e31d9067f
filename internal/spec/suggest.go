package spec

import (
	"fmt"
	"slices"
	"strings"
)

// suggest returns the candidate closest to s when it is within edit
// distance 2 (case-insensitive), for "did you mean" hints.
func suggest(s string, candidates []string) (string, bool) {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

// didYouMean builds a hint: the close match if there is one, else the list
// of valid choices.
func didYouMean(s string, candidates []string, what string) string {
	if c, ok := suggest(s, candidates); ok {
		return fmt.Sprintf("did you mean %q?", c)
	}
	if len(candidates) == 0 {
		return ""
	}
	sorted := slices.Clone(candidates)
	slices.Sort(sorted)
	return fmt.Sprintf("%s: %s", what, strings.Join(sorted, ", "))
}

// levenshtein is the edit distance between a and b, counted in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
