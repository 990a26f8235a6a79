package workspace

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxRefusalLine bounds each line of a refusal body. Cortex echoes a
// whole series in some texts ("series has too many labels ... series:
// '...'"), so a series of a million labels would come back as a 14 MB
// answer (and a 14 MB log line). Lines are cut here, at a rune boundary,
// with the number of bytes left out; texts under the bound, which is all
// of them for series within any profile's limits, stay Cortex's byte for
// byte.
const maxRefusalLine = 4 << 10

// capLines cuts every line of msg longer than maxRefusalLine.
func capLines(msg string) string {
	if len(msg) <= maxRefusalLine {
		return msg
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if len(l) <= maxRefusalLine {
			continue
		}
		cut := maxRefusalLine
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		lines[i] = l[:cut] + "... (" + strconv.Itoa(len(l)-cut) + " more bytes)"
	}
	return strings.Join(lines, "\n")
}
