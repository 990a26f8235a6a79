package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("decode", "print a captured remote-write body (snappy or raw, RW 1.0 or 2.0) as series", func(s stdio) command { return &decodeCommand{stdio: s} })
	jsonCommands["decode"] = true
}

type decodeCommand struct {
	stdio
	version  string
	maxBytes int
	output   outputFlag
}

const decodeExample = `  # a body captured from a failing pusher (tcpdump, a proxy, a test):
  rwkit decode body.snappy
  curl -s ... | rwkit decode -
  rwkit decode --output json body.pb | jq '.series[0]'`

func (c *decodeCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("decode [FILE|-]",
		"Prints a captured remote-write body as readable series, one per line, like the text exposition.\n"+
			"The body may be Snappy-compressed or raw, RW 1.0 or RW 2.0: both are detected.\n"+
			"Without FILE it reads stdin, which must not be a terminal.\n"+
			"Exit codes: 0 decoded, 1 not a remote-write body (or unreadable), 2 usage.",
		decodeExample, c.err)
	fs.StringVar(&c.version, "rw-version", "auto", "protocol of the body: auto, 1 or 2")
	fs.IntVar(&c.maxBytes, "max-bytes", 256<<20, "refuse bodies that decompress to more than this many bytes")
	c.output = "text"
	fs.Var(&c.output, "output", "text or json")
	fs.Init("decode", 0)
	fs.SetOutput(c.err)
	// FILE may come before the flags too: rwkit decode body.pb --output json.
	flagArgs, files := splitPositional(fs, args)
	if err := parseFlags(fs, flagArgs, c.getenv); err != nil {
		return err
	}
	if len(files) > 1 {
		return usagef("decode: want one FILE (or - for stdin), got %d arguments", len(files))
	}
	want, err := parseBodyVersion(c.version)
	if err != nil {
		return err
	}
	if err := checkAtLeast("decode", "--max-bytes", c.maxBytes, 1); err != nil {
		return err
	}
	if len(files) == 0 && isTerminal(c.in) {
		// Nobody types a remote-write body: waiting for one would look hung.
		fs.Usage()
		return usagef("decode: no FILE, and stdin is a terminal: give a FILE, or pipe a body into rwkit decode -")
	}
	var r io.Reader = c.in
	name := "stdin"
	if len(files) == 1 && files[0] != "-" {
		name = files[0]
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("decode: %w", redact.Error(err)) // a URL given by mistake names itself
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, int64(c.maxBytes)+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if len(body) > c.maxBytes {
		return fmt.Errorf("%s is larger than --max-bytes=%d", name, c.maxBytes)
	}
	d, err := decodeBody(body, want, c.maxBytes)
	if err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	if c.output == "json" {
		c.setResult(d.jsonView())
		return nil
	}
	d.writeText(c.out)
	return nil
}

// isTerminal reports whether r is a character device (a terminal; also
// /dev/null, which has nothing to decode either). Any reader with Stat, as
// *os.File has, is asked, so tests can pass a fake.
func isTerminal(r io.Reader) bool {
	f, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// decoded is a body and what was learned decoding it.
type decoded struct {
	req          wire.WriteRequest
	version      wire.Version
	snappy       bool
	compressed   int
	uncompressed int
}

// parseBodyVersion reads --rw-version: 0 for auto.
func parseBodyVersion(s string) (wire.Version, error) {
	switch s {
	case "auto", "":
		return 0, nil
	case "1", "1.0":
		return wire.V1, nil
	case "2", "2.0":
		return wire.V2, nil
	}
	return 0, flagUsagef("--rw-version", "decode: --rw-version %q: want auto, 1 or 2", s)
}

// decodeBody tries the body as Snappy first, then as raw protobuf: a raw
// protobuf body is rarely a valid Snappy block, and when it is, the
// decompressed bytes must still decode as a write request.
func decodeBody(body []byte, want wire.Version, maxBytes int) (*decoded, error) {
	var snappyErr error
	if raw, err := wire.Decompress(nil, body, maxBytes); err == nil {
		d, err := decodeRaw(raw, want)
		if err == nil {
			d.snappy, d.compressed = true, len(body)
			return d, nil
		}
		snappyErr = err
	} else {
		snappyErr = err
	}
	d, err := decodeRaw(body, want)
	if err != nil {
		return nil, fmt.Errorf("not a remote-write body: as snappy: %v; as raw protobuf: %v", snappyErr, err)
	}
	return d, nil
}

func decodeRaw(raw []byte, want wire.Version) (*decoded, error) {
	v := want
	if v == 0 {
		var err error
		if v, err = wire.DetectVersion(raw); err != nil {
			return nil, err
		}
	}
	d := &decoded{version: v, uncompressed: len(raw)}
	var err error
	if v == wire.V2 {
		err = wire.DecodeRequestV2(raw, &d.req)
	} else {
		err = wire.DecodeWriteRequest(raw, &d.req)
	}
	if err != nil {
		return nil, fmt.Errorf("RW %s: %w", v, err)
	}
	return d, nil
}

type counts struct {
	Series     int `json:"series"`
	Samples    int `json:"samples"`
	Histograms int `json:"histograms"`
	Exemplars  int `json:"exemplars"`
	Metadata   int `json:"metadata"`
}

func countRequest(req *wire.WriteRequest) counts {
	c := counts{Series: len(req.Series), Metadata: len(req.Metadata)}
	for i := range req.Series {
		c.Samples += len(req.Series[i].Samples)
		c.Histograms += len(req.Series[i].Histograms)
		c.Exemplars += len(req.Series[i].Exemplars)
	}
	return c
}

func (d *decoded) writeText(w io.Writer) {
	c := countRequest(&d.req)
	enc := "raw"
	if d.snappy {
		enc = fmt.Sprintf("snappy %s -> %s", byteSize(d.compressed), byteSize(d.uncompressed))
	} else {
		enc = fmt.Sprintf("raw %s", byteSize(d.uncompressed))
	}
	fmt.Fprintf(w, "# remote write %s, %s: %d series, %d samples, %d histograms, %d exemplars, %d metadata\n",
		d.version, enc, c.Series, c.Samples, c.Histograms, c.Exemplars, c.Metadata)
	for _, md := range d.req.Metadata {
		writeMetadata(w, md.FamilyName, md)
	}
	for i := range d.req.Series {
		ts := &d.req.Series[i]
		if d.version == wire.V2 && (ts.Metadata != wire.Metadata{}) {
			writeMetadata(w, seriesName(ts.Labels), ts.Metadata)
		}
		sel := wire.SeriesString(ts.Labels)
		for _, s := range ts.Samples {
			fmt.Fprintf(w, "%s %s %d", sel, formatFloat(s.Value), s.Timestamp)
			if s.StartTimestamp != 0 {
				fmt.Fprintf(w, " st=%d", s.StartTimestamp)
			}
			fmt.Fprintln(w)
		}
		for _, h := range ts.Histograms {
			fmt.Fprintf(w, "%s %s %d\n", sel, formatHistogram(&h), h.Timestamp)
		}
		for _, e := range ts.Exemplars {
			fmt.Fprintf(w, "# exemplar %s %s %s %d\n", sel, wire.SeriesString(e.Labels), formatFloat(e.Value), e.Timestamp)
		}
	}
}

func writeMetadata(w io.Writer, name string, md wire.Metadata) {
	if md.Help != "" {
		fmt.Fprintf(w, "# HELP %s %s\n", name, escapeHelp(md.Help))
	}
	fmt.Fprintf(w, "# TYPE %s %s\n", name, md.Type.String())
	if md.Unit != "" {
		fmt.Fprintf(w, "# UNIT %s %s\n", name, md.Unit)
	}
}

func seriesName(ls []wire.Label) string {
	for _, l := range ls {
		if l.Name == "__name__" {
			return l.Value
		}
	}
	return ""
}

func formatFloat(v float64) string {
	switch {
	case wire.IsStaleNaN(v):
		return "StaleNaN"
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func formatHistogram(h *wire.Histogram) string {
	var b strings.Builder
	if h.IsFloat {
		fmt.Fprintf(&b, "{count:%s, sum:%s, schema:%d, zero_threshold:%s, zero_count:%s",
			formatFloat(h.CountFloat), formatFloat(h.Sum), h.Schema, formatFloat(h.ZeroThreshold), formatFloat(h.ZeroCountFloat))
	} else {
		fmt.Fprintf(&b, "{count:%d, sum:%s, schema:%d, zero_threshold:%s, zero_count:%d",
			h.CountInt, formatFloat(h.Sum), h.Schema, formatFloat(h.ZeroThreshold), h.ZeroCountInt)
	}
	// The bucket fields, each printed only when the histogram has it.
	for _, f := range []struct {
		name string
		n    int
		v    any
	}{
		{"positive_spans", len(h.PositiveSpans), h.PositiveSpans},
		{"positive_deltas", len(h.PositiveDeltas), h.PositiveDeltas},
		{"positive_counts", len(h.PositiveCounts), h.PositiveCounts},
		{"negative_spans", len(h.NegativeSpans), h.NegativeSpans},
		{"negative_deltas", len(h.NegativeDeltas), h.NegativeDeltas},
		{"negative_counts", len(h.NegativeCounts), h.NegativeCounts},
		{"custom_values", len(h.CustomValues), h.CustomValues},
	} {
		if f.n > 0 {
			fmt.Fprintf(&b, ", %s:%v", f.name, f.v)
		}
	}
	if h.ResetHint != wire.ResetHintUnknown {
		fmt.Fprintf(&b, ", reset_hint:%d", h.ResetHint)
	}
	if h.StartTimestamp != 0 {
		fmt.Fprintf(&b, ", st:%d", h.StartTimestamp)
	}
	b.WriteByte('}')
	return b.String()
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// byteSize formats n bytes for people: 812 B, 1.2 KiB, 3.4 MiB.
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

type jsonSeries struct {
	Labels     map[string]string `json:"labels"`
	Samples    [][2]any          `json:"samples,omitempty"`
	Histograms []string          `json:"histograms,omitempty"`
	Exemplars  []jsonExemplar    `json:"exemplars,omitempty"`
	Metadata   *jsonMetadata     `json:"metadata,omitempty"`
}

// jsonMetadata is wire.Metadata with snake_case keys and the type by name
// (wire.Metadata has no JSON names of its own: it is the wire's struct).
type jsonMetadata struct {
	FamilyName string `json:"family_name,omitempty"`
	Type       string `json:"type"`
	Help       string `json:"help,omitempty"`
	Unit       string `json:"unit,omitempty"`
}

func newJSONMetadata(md wire.Metadata) *jsonMetadata {
	return &jsonMetadata{FamilyName: md.FamilyName, Type: md.Type.String(), Help: md.Help, Unit: md.Unit}
}

type jsonExemplar struct {
	Labels    map[string]string `json:"labels"`
	Value     string            `json:"value"`
	Timestamp int64             `json:"timestamp"`
}

type jsonBody struct {
	Version           string          `json:"version"`
	Snappy            bool            `json:"snappy"`
	BytesCompressed   int             `json:"bytes_compressed,omitempty"`
	BytesUncompressed int             `json:"bytes_uncompressed"`
	Counts            counts          `json:"counts"`
	Metadata          []*jsonMetadata `json:"metadata,omitempty"`
	Series            []jsonSeries    `json:"series"`
}

// jsonView turns the body into JSON-friendly values: sample values are
// strings (as in the Prometheus HTTP API) so NaN and ±Inf survive.
func (d *decoded) jsonView() jsonBody {
	out := jsonBody{
		Version: d.version.String(), Snappy: d.snappy, BytesCompressed: d.compressed,
		BytesUncompressed: d.uncompressed, Counts: countRequest(&d.req),
		Series: make([]jsonSeries, 0, len(d.req.Series)),
	}
	for _, md := range d.req.Metadata {
		out.Metadata = append(out.Metadata, newJSONMetadata(md))
	}
	for i := range d.req.Series {
		ts := &d.req.Series[i]
		js := jsonSeries{Labels: wire.LabelMap(ts.Labels)}
		for j := range ts.Histograms {
			js.Histograms = append(js.Histograms, formatHistogram(&ts.Histograms[j]))
		}
		for _, e := range ts.Exemplars {
			js.Exemplars = append(js.Exemplars, jsonExemplar{wire.LabelMap(e.Labels), formatFloat(e.Value), e.Timestamp})
		}
		for _, s := range ts.Samples {
			js.Samples = append(js.Samples, [2]any{s.Timestamp, formatFloat(s.Value)})
		}
		if d.version == wire.V2 && (ts.Metadata != wire.Metadata{}) {
			js.Metadata = newJSONMetadata(ts.Metadata)
		}
		out.Series = append(out.Series, js)
	}
	return out
}
