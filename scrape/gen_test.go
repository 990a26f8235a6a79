package scrape

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// genExposition writes a deterministic text exposition of about n families:
// counters, gauges, untyped, histograms and summaries, escapes in HELP and
// label values, NaN and infinities, some timestamps, and some families
// whose lines are split by another family's.
func genExposition(seed int64, n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 18))
	var b bytes.Buffer
	values := []string{"0", "1", "-1.5", "3.25e-3", "NaN", "+Inf", "-Inf", "12345678", "1e+06"}
	labelValues := []string{"a", "", "with space", `quo\"te`, `back\\slash`, `new\nline`, "ünï", "GET", "/api/v1/{id}"}
	labels := func(extra string) string {
		k := rng.IntN(4)
		s := ""
		for i := range k {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf("l%d=\"%s\"", i, labelValues[rng.IntN(len(labelValues))])
		}
		if extra != "" {
			if s != "" {
				s += ","
			}
			s += extra
		}
		if s == "" && rng.IntN(2) == 0 {
			return ""
		}
		return "{" + s + "}"
	}
	ts := func() string {
		if rng.IntN(5) == 0 {
			return " " + strconv.FormatInt(1700000000000+rng.Int64N(1e6), 10)
		}
		return ""
	}
	var deferred []string
	for f := range n {
		name := fmt.Sprintf("fam_%d_total", f)
		kind := rng.IntN(5)
		if rng.IntN(3) > 0 {
			fmt.Fprintf(&b, "# HELP %s Help for %d, with \\\\ and \\n.\n", name, f)
		}
		types := []string{"counter", "gauge", "untyped", "histogram", "summary"}
		if rng.IntN(4) > 0 || kind >= 3 {
			fmt.Fprintf(&b, "# TYPE %s %s\n", name, types[kind])
		}
		series := 1 + rng.IntN(4)
		for range series {
			ls := labels("")
			switch kind {
			case 3:
				inner := ls
				if len(inner) > 2 {
					inner = inner[1:len(inner)-1] + ","
				} else {
					inner = ""
				}
				cum := 0
				for _, le := range []string{"0.1", "1", "10", "+Inf"} {
					cum += rng.IntN(3)
					fmt.Fprintf(&b, "%s_bucket{%sle=\"%s\"} %d%s\n", name, inner, le, cum, ts())
				}
				fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %d\n", name, ls, values[rng.IntN(len(values))], name, ls, cum)
			case 4:
				inner := ls
				if len(inner) > 2 {
					inner = inner[1:len(inner)-1] + ","
				} else {
					inner = ""
				}
				for _, q := range []string{"0.5", "0.99"} {
					fmt.Fprintf(&b, "%s{%squantile=\"%s\"} %s\n", name, inner, q, values[rng.IntN(len(values))])
				}
				line := fmt.Sprintf("%s_sum%s 1.5\n%s_count%s 3\n", name, ls, name, ls)
				if rng.IntN(4) == 0 {
					deferred = append(deferred, line) // split from its family
				} else {
					b.WriteString(line)
				}
			default:
				line := fmt.Sprintf("%s%s %s%s\n", name, ls, values[rng.IntN(len(values))], ts())
				if rng.IntN(6) == 0 {
					deferred = append(deferred, line)
				} else {
					b.WriteString(line)
				}
			}
		}
		if len(deferred) > 0 && rng.IntN(3) == 0 {
			b.WriteString(deferred[0])
			deferred = deferred[1:]
		}
	}
	for _, l := range deferred {
		b.WriteString(l)
	}
	return b.Bytes()
}
