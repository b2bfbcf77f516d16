// Package suggest finds the name a user probably meant: the "did you
// mean" of matrixbox's errors about selections and config files.
package suggest

// Nearest returns the candidate nearest to word, when it is near enough
// to be a typo of it: one or two edits away (a quarter of word's length
// for a long word), and not word itself.
func Nearest(word string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := Distance(word, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(word)/4)
	if bestD < 1 || bestD > limit {
		return "", false
	}
	return best, true
}

// Distance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each count one, so
// "buildkitd-oic" is one edit from "buildkitd-oci".
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
