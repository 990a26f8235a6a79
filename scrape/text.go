package scrape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// TextParser reads the Prometheus text exposition format (0.0.4) from an
// io.Reader in a stream and hands out one sample line at a time, from
// buffers it reuses: after the first lines of each family it allocates
// nothing per line.
//
//	p := scrape.NewTextParser(body, model.LegacyValidation)
//	for p.Next() {
//		s := p.Sample() // valid until the next call to Next
//		...
//	}
//	if err := p.Err(); err != nil { ... }
//
// It accepts exactly what prometheus/common's expfmt.TextParser (the parser
// behind Parse and gather.ParseText) accepts and refuses what it refuses,
// with the same expfmt.ParseError (line number and message): it is a port of
// that parser's state machine that emits each line instead of building a
// MetricFamily tree. Like expfmt it resolves a name ending in _count, _sum
// (summaries, histograms) or _bucket (histograms) to an earlier family of
// that type, keeps families across non-contiguous lines, and takes "le" and
// "quantile" out of the labels (see TextSample.Kind and Bound). Grouping a
// histogram's or summary's lines into one metric (by family and labels) is
// left to the consumer. One difference: for such a line with its name
// inside the braces ({"s_sum",a="1"} 1), expfmt groups by labels left over
// from an earlier line (and panics when there is none); TextParser hands
// out the line's own labels.
type TextParser struct {
	r      io.Reader
	buf    []byte
	pos    int
	end    int
	rerr   error
	scheme model.ValidationScheme

	b    byte  // the byte read last (expfmt's currentByte)
	err  error // the first error, io.EOF while reading
	line int
	done bool

	tok []byte // the token being read
	// own is tok's storage while tok aliases the read buffer (aliased):
	// a token read whole from the buffer is not copied until the buffer
	// is read into again (fill).
	own     []byte
	aliased bool
	upper   []byte // the TYPE token upper-cased
	arena   []byte // the current line's name and labels
	spans   []labelSpan
	name    span

	// plain says tok is an unquoted name read in one run of plain name
	// bytes ([a-zA-Z_] or, in a metric name, ':' first; then also digits),
	// which every scheme's name check accepts; ascii says tok, a label
	// value, has no byte >= 0x80, so it is valid UTF-8.
	plain, ascii bool

	fams map[string]*TextFamily
	gen  uint64
	live int // families seen since the last Reset
	cur  *TextFamily
	last resolved // setOrCreateFamily's last answer

	summaryCount, summarySum, histCount, histSum bool
	inBraces, nameInBraces, haveMetric           bool

	quantile, bucket float64

	labels []wire.Label
	s      TextSample
}

type span struct{ off, end int }

// resolved is what setOrCreateFamily made of a name. A name's answer holds
// until the next Reset: families are not removed before it, the map's entry
// for a name is only replaced after it, and a family's type, once set, no
// longer changes (a second TYPE line is an error), so the same name resolves
// to the same family with the same _count/_sum flags. A scrape's lines
// mostly repeat the name of the line before.
type resolved struct {
	name                                         []byte
	fam                                          *TextFamily
	summaryCount, summarySum, histCount, histSum bool
}

type labelSpan struct{ name, value span }

// TextFamily is a metric family as the parser knows it so far: its TYPE and
// HELP lines come before or between its samples.
type TextFamily struct {
	Name string
	// Type is the family's type: from its TYPE line, or untyped from its
	// first sample when no TYPE line came before it. It is always set for
	// the family of a sample.
	Type dto.MetricType
	// Help is the HELP text, escapes resolved; HasHelp says there was one.
	Help    string
	HasHelp bool

	typed    bool
	gen      uint64
	prevHelp string // Help before the last Reset, reused when unchanged
}

// SampleKind says what a sample line is within its family.
type SampleKind uint8

const (
	// KindValue is a counter, gauge or untyped sample.
	KindValue SampleKind = iota
	// KindBucket is a histogram bucket; Bound is its "le".
	KindBucket
	// KindQuantile is a summary quantile; Bound is its "quantile".
	KindQuantile
	// KindSum is a histogram's or summary's _sum.
	KindSum
	// KindCount is a histogram's or summary's _count.
	KindCount
	// KindIgnored is a line of a histogram or summary that is neither a
	// bucket, a quantile, a _sum nor a _count (a histogram line without
	// "le", a summary line without "quantile"): expfmt creates the metric
	// (its sum and count stay 0) and drops the value.
	KindIgnored
)

// TextSample is one sample line. Its strings point into the parser's
// buffers: they are valid until the next call to Next; copy what you keep.
type TextSample struct {
	Family *TextFamily
	// Name is the metric name as written, e.g. "rpc_seconds_bucket" of
	// the family "rpc_seconds".
	Name string
	// Labels are in the order written, without "le" in a histogram and
	// "quantile" in a summary (as expfmt); Sorted says they are sorted by
	// name.
	Labels []wire.Label
	Sorted bool
	Kind   SampleKind
	// Bound is the parsed "le" (KindBucket) or "quantile" (KindQuantile).
	Bound        float64
	Value        float64
	Timestamp    int64 // milliseconds, when HasTimestamp
	HasTimestamp bool
	Line         int
	// NameInBraces says the metric name was written inside the braces
	// ({"name",a="1"} 1): for a histogram's or summary's line, expfmt
	// groups it by labels left over from an earlier line (see TextParser).
	NameInBraces bool
}

// NewTextParser returns a parser reading r. scheme is the name validation
// expfmt applies: Parse uses model.LegacyValidation for the text format
// (whatever the Content-Type says), gather.ParseText model.UTF8Validation;
// model.UnsetValidation means UTF-8.
func NewTextParser(r io.Reader, scheme model.ValidationScheme) *TextParser {
	p := &TextParser{fams: map[string]*TextFamily{}}
	p.reset(r, scheme)
	return p
}

// Reset makes the parser read r from the start, keeping its buffers and the
// families' storage (a scrape loop reuses one parser).
func (p *TextParser) Reset(r io.Reader) { p.reset(r, p.scheme) }

func (p *TextParser) reset(r io.Reader, scheme model.ValidationScheme) {
	if scheme == model.UnsetValidation {
		scheme = model.UTF8Validation
	}
	// Families kept for reuse that the last body did not have: dropped
	// once they outnumber the live ones, so that a target whose names
	// change does not grow the map forever.
	if len(p.fams) > 2*p.live+64 {
		for name, f := range p.fams {
			if f.gen != p.gen {
				delete(p.fams, name)
			}
		}
	}
	if p.buf == nil {
		p.buf = make([]byte, 64<<10)
	}
	p.startTok()
	*p = TextParser{
		r: r, buf: p.buf, scheme: scheme,
		tok: p.tok[:0], upper: p.upper[:0], arena: p.arena[:0], spans: p.spans[:0], labels: p.labels[:0],
		last: resolved{name: p.last.name[:0]},
		fams: p.fams, gen: p.gen + 1,
		quantile: math.NaN(), bucket: math.NaN(),
	}
}

// Sample returns the sample Next found.
func (p *TextParser) Sample() *TextSample { return &p.s }

// Err returns the error that ended parsing, nil at a clean end of input. A
// syntax error is an expfmt.ParseError naming the line.
func (p *TextParser) Err() error {
	if p.err == nil {
		return nil
	}
	var pe expfmt.ParseError
	if errors.As(p.err, &pe) {
		return pe
	}
	return fmt.Errorf("line %d: read exposition: %w", p.line, p.err)
}

type state uint8

const (
	stDone state = iota
	stEmit
	stStartOfLine
	stStartComment
	stMetricName
	stLabels
	stLabelName
	stLabelValue
	stValue
	stTimestamp
	stHelp
	stType
)

// Next parses up to the next sample line and reports whether there is one.
// At the end of input or at an error it returns false; see Err.
func (p *TextParser) Next() bool {
	if p.done {
		return false
	}
	st := stStartOfLine
	for {
		switch st {
		case stStartOfLine:
			st = p.startOfLine()
		case stStartComment:
			st = p.startComment()
		case stMetricName:
			st = p.readingMetricName()
		case stLabels:
			st = p.readingLabels()
		case stLabelName:
			st = p.startLabelName()
		case stLabelValue:
			st = p.startLabelValue()
		case stValue:
			st = p.readingValue()
		case stTimestamp:
			st = p.startTimestamp()
		case stHelp:
			st = p.readingHelp()
		case stType:
			st = p.readingType()
		case stEmit:
			p.emit()
			return true
		case stDone:
			p.done = true
			if errors.Is(p.err, io.EOF) {
				p.parseError("unexpected end of input stream")
			}
			return false
		}
	}
}

func (p *TextParser) emit() {
	p.labels = p.labels[:0]
	sorted, prev := true, ""
	for _, l := range p.spans {
		lb := wire.Label{Name: p.str(l.name), Value: p.str(l.value)}
		if sorted && len(p.labels) > 0 {
			sorted = !less(lb.Name, prev)
		}
		p.labels, prev = append(p.labels, lb), lb.Name
	}
	p.s.Family = p.cur
	p.s.Name = p.str(p.name)
	p.s.Labels = p.labels
	p.s.Sorted = sorted
	p.s.Line = p.line
	p.s.NameInBraces = p.nameInBraces
}

// less is a < b, deciding on the first bytes when they differ (label names
// mostly do) without a call to the runtime's compare.
func less(a, b string) bool {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		return a[0] < b[0]
	}
	return a < b
}

func (p *TextParser) str(s span) string {
	if s.end == s.off {
		return ""
	}
	return unsafe.String(&p.arena[s.off], s.end-s.off)
}

// save copies the token into the line's arena.
func (p *TextParser) save() span {
	off := len(p.arena)
	p.arena = append(p.arena, p.tok...)
	return span{off, len(p.arena)}
}

// tokString is the token as a string without a copy, for lookups and
// parsing only: it changes with the token.
func (p *TextParser) tokString() string {
	if len(p.tok) == 0 {
		return ""
	}
	return unsafe.String(&p.tok[0], len(p.tok))
}

func (p *TextParser) parseError(msg string) {
	p.err = expfmt.ParseError{Line: p.line, Msg: msg}
}

func (p *TextParser) curType() dto.MetricType {
	if p.cur == nil || !p.cur.typed {
		return dto.MetricType_COUNTER // what expfmt's GetType says of an unset type
	}
	return p.cur.Type
}

func (p *TextParser) curName() string {
	if p.cur == nil {
		return ""
	}
	return p.cur.Name
}

func isHistogram(t dto.MetricType) bool {
	return t == dto.MetricType_HISTOGRAM || t == dto.MetricType_GAUGE_HISTOGRAM
}

func (p *TextParser) startOfLine() state {
	p.line++
	p.haveMetric, p.inBraces, p.nameInBraces = false, false, false
	p.arena, p.spans = p.arena[:0], p.spans[:0]
	p.s = TextSample{}
	if p.skipBlankTab(); p.err != nil {
		if p.err == io.EOF {
			p.err = nil
		}
		return stDone
	}
	switch p.b {
	case '#':
		return stStartComment
	case '\n':
		return stStartOfLine
	case '{':
		p.inBraces = true
		return stLabels
	}
	return stMetricName
}

func (p *TextParser) startComment() state {
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.b == '\n' {
		return stStartOfLine
	}
	if p.readTokenUntilWhitespace(); p.err != nil {
		return stDone
	}
	if p.b == '\n' {
		return stStartOfLine
	}
	keyword := p.tokString()
	help := keyword == "HELP"
	if !help && keyword != "TYPE" {
		for p.b != '\n' {
			if p.readByte(); p.err != nil {
				return stDone
			}
		}
		return stStartOfLine
	}
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.readTokenAsMetricName(); p.err != nil {
		return stDone
	}
	if p.b == '\n' {
		return stStartOfLine
	}
	if !isBlankOrTab(p.b) {
		p.parseError("invalid metric name in comment")
		return stDone
	}
	if p.setOrCreateFamily(); p.err != nil {
		return stDone
	}
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.b == '\n' {
		return stStartOfLine
	}
	if help {
		return stHelp
	}
	return stType
}

func (p *TextParser) readingMetricName() state {
	if p.readTokenAsMetricName(); p.err != nil {
		return stDone
	}
	if len(p.tok) == 0 {
		p.parseError("invalid metric name")
		return stDone
	}
	if p.setOrCreateFamily(); p.err != nil {
		return stDone
	}
	p.startMetric()
	if p.skipBlankTabIfCurrentBlankTab(); p.err != nil {
		return stDone
	}
	return stLabels
}

// startMetric is expfmt's "currentMetric = &dto.Metric{}": a name was read.
func (p *TextParser) startMetric() {
	if !p.cur.typed {
		p.cur.Type, p.cur.typed = dto.MetricType_UNTYPED, true
	}
	p.name = p.save()
	p.haveMetric = true
}

func (p *TextParser) readingLabels() state {
	if t := p.curType(); t == dto.MetricType_SUMMARY || isHistogram(t) {
		p.quantile, p.bucket = math.NaN(), math.NaN()
	}
	if p.b != '{' {
		return stValue
	}
	return stLabelName
}

func (p *TextParser) startLabelName() state {
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.b == '}' {
		if !p.haveMetric {
			p.parseError("invalid metric name")
			return stDone
		}
		if p.skipBlankTab(); p.err != nil {
			return stDone
		}
		return stValue
	}
	if p.readTokenAsLabelName(); p.err != nil {
		return stDone
	}
	if len(p.tok) == 0 {
		p.parseError(fmt.Sprintf("invalid label name for metric %q", p.curName()))
		return stDone
	}
	if p.skipBlankTabIfCurrentBlankTab(); p.err != nil {
		return stDone
	}
	if p.b != '=' {
		if p.inBraces {
			return p.nameInsideBraces()
		}
		p.parseError(fmt.Sprintf("expected '=' after label name, found %q", p.b))
		return stDone
	}
	name := p.tokString()
	if name == model.MetricNameLabel {
		p.parseError(fmt.Sprintf("label name %q is reserved", model.MetricNameLabel))
		return stDone
	}
	if !p.plain && !p.scheme.IsValidLabelName(name) {
		p.parseError(fmt.Sprintf("invalid label name %q", name))
		return stDone
	}
	t := p.curType()
	ls := labelSpan{name: p.save()}
	if (t != dto.MetricType_SUMMARY || name != model.QuantileLabel) && (!isHistogram(t) || name != model.BucketLabel) {
		for _, o := range p.spans {
			if p.str(o.name) == name {
				p.parseError(fmt.Sprintf("duplicate label names for metric %q", p.curName()))
				return stDone
			}
		}
		p.spans = append(p.spans, ls)
	} else {
		// Parsed into Bound, not a label; its name stays in the arena
		// for startLabelValue, as the last span's is not.
		ls.value.off = -1
		p.spans = append(p.spans, ls)
	}
	return stLabelValue
}

// nameInsideBraces takes the token just read inside braces, not followed
// by '=', as the metric's quoted name ({"name",a="1"} or {"name"}).
func (p *TextParser) nameInsideBraces() state {
	if p.nameInBraces {
		p.parseError(fmt.Sprintf("multiple metric names for metric %q", p.curName()))
		return stDone
	}
	switch p.b {
	case ',':
		if p.setOrCreateFamily(); p.err != nil {
			return stDone
		}
		p.startMetric()
		p.nameInBraces = true
		return stLabelName
	case '}':
		if p.setOrCreateFamily(); p.err != nil {
			return stDone
		}
		p.startMetric()
		p.nameInBraces = true
		if p.skipBlankTab(); p.err != nil {
			return stDone
		}
		return stValue
	default:
		p.parseError(fmt.Sprintf("unexpected end of metric name %q", p.b))
		return stDone
	}
}

func (p *TextParser) startLabelValue() state {
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.b != '"' {
		p.parseError(fmt.Sprintf("expected '\"' at start of label value, found %q", p.b))
		return stDone
	}
	if p.readTokenAsLabelValue(); p.err != nil {
		return stDone
	}
	if !p.ascii && !utf8.Valid(p.tok) {
		p.parseError(fmt.Sprintf("invalid label value %q", p.tokString()))
		return stDone
	}
	last := &p.spans[len(p.spans)-1]
	name := p.str(last.name)
	bound := last.value.off == -1
	if bound {
		p.spans = p.spans[:len(p.spans)-1]
	} else {
		last.value = p.save()
	}
	t := p.curType()
	if t == dto.MetricType_SUMMARY && name == model.QuantileLabel {
		var err error
		if p.quantile, err = parseFloat(p.tokString()); err != nil {
			p.parseError(fmt.Sprintf("expected float as value for 'quantile' label, got %q", p.tokString()))
			return stDone
		}
	}
	if isHistogram(t) && name == model.BucketLabel {
		var err error
		if p.bucket, err = parseFloat(p.tokString()); err != nil {
			p.parseError(fmt.Sprintf("expected float as value for 'le' label, got %q", p.tokString()))
			return stDone
		}
	}
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	switch p.b {
	case ',':
		return stLabelName
	case '}':
		if !p.haveMetric {
			p.parseError("invalid metric name")
			return stDone
		}
		if p.skipBlankTab(); p.err != nil {
			return stDone
		}
		return stValue
	default:
		p.parseError(fmt.Sprintf("unexpected end of label value %q", p.tokString()))
		return stDone
	}
}

func (p *TextParser) readingValue() state {
	if p.readTokenUntilWhitespace(); p.err != nil {
		return stDone
	}
	value, err := parseFloat(p.tokString())
	if err != nil {
		p.parseError(fmt.Sprintf("expected float as value, got %q", p.tokString()))
		return stDone
	}
	p.s.Value = value
	p.s.Kind = KindValue
	switch t := p.curType(); {
	case t == dto.MetricType_SUMMARY:
		switch {
		case p.summaryCount:
			p.s.Kind = KindCount
		case p.summarySum:
			p.s.Kind = KindSum
		case !math.IsNaN(p.quantile):
			p.s.Kind, p.s.Bound = KindQuantile, p.quantile
		default:
			p.s.Kind = KindIgnored
		}
	case isHistogram(t):
		switch {
		case p.histCount:
			if u := uint64(value); value != float64(u) && value < 0 {
				p.parseError(fmt.Sprintf("negative count for histogram %q", p.curName()))
				return stDone
			}
			p.s.Kind = KindCount
		case p.histSum:
			p.s.Kind = KindSum
		case !math.IsNaN(p.bucket):
			if u := uint64(value); value != float64(u) && value < 0 {
				p.parseError(fmt.Sprintf("negative bucket population for histogram %q", p.curName()))
				return stDone
			}
			p.s.Kind, p.s.Bound = KindBucket, p.bucket
		default:
			p.s.Kind = KindIgnored
		}
	}
	if p.b == '\n' {
		return stEmit
	}
	return stTimestamp
}

func (p *TextParser) startTimestamp() state {
	if p.skipBlankTab(); p.err != nil {
		return stDone
	}
	if p.readTokenUntilWhitespace(); p.err != nil {
		return stDone
	}
	ts, err := strconv.ParseInt(p.tokString(), 10, 64)
	if err != nil {
		p.parseError(fmt.Sprintf("expected integer as timestamp, got %q", p.tokString()))
		return stDone
	}
	p.s.Timestamp, p.s.HasTimestamp = ts, true
	if p.readTokenUntilNewline(false); p.err != nil {
		return stDone
	}
	if len(p.tok) > 0 {
		p.parseError(fmt.Sprintf("spurious string after timestamp: %q", p.tokString()))
		return stDone
	}
	return stEmit
}

func (p *TextParser) readingHelp() state {
	if p.cur.HasHelp {
		p.parseError(fmt.Sprintf("second HELP line for metric name %q", p.cur.Name))
		return stDone
	}
	if p.readTokenUntilNewline(true); p.err != nil {
		return stDone
	}
	switch {
	case p.cur.prevHelp == p.tokString():
		p.cur.Help = p.cur.prevHelp
	case p.cur.Help != p.tokString():
		p.cur.Help = string(p.tok)
	}
	p.cur.HasHelp = true
	return stStartOfLine
}

func (p *TextParser) readingType() state {
	if p.cur.typed {
		p.parseError(fmt.Sprintf("second TYPE line for metric name %q, or TYPE reported after samples", p.cur.Name))
		return stDone
	}
	if p.readTokenUntilNewline(false); p.err != nil {
		return stDone
	}
	typ := p.upperToken()
	t, ok := dto.MetricType_value[typ]
	if !ok {
		// expfmt also takes OpenMetrics' spelling of a gauge histogram.
		if typ != "GAUGEHISTOGRAM" {
			p.parseError(fmt.Sprintf("unknown metric type %q", p.tokString()))
			return stDone
		}
		t = int32(dto.MetricType_GAUGE_HISTOGRAM)
	}
	p.cur.Type, p.cur.typed = dto.MetricType(t), true
	return stStartOfLine
}

// upperToken is strings.ToUpper of the token, as expfmt reads a TYPE,
// without allocating for ASCII (ToUpper maps some other letters, such as
// the dotless i, to ASCII ones, so the rest takes the slow path).
func (p *TextParser) upperToken() string {
	for _, c := range p.tok {
		if c >= utf8.RuneSelf {
			return strings.ToUpper(p.tokString())
		}
	}
	p.upper = p.upper[:0]
	for _, c := range p.tok {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		p.upper = append(p.upper, c)
	}
	if len(p.upper) == 0 {
		return ""
	}
	return unsafe.String(&p.upper[0], len(p.upper))
}

// family returns the family of that name seen since the last Reset.
func (p *TextParser) family(name string) *TextFamily {
	if f := p.fams[name]; f != nil && f.gen == p.gen {
		return f
	}
	return nil
}

// setOrCreateFamily resolves the token to its family as expfmt does: the
// family of that exact name, else a summary whose _count or _sum it is,
// else a histogram whose _count, _sum or _bucket it is, else a new family.
func (p *TextParser) setOrCreateFamily() {
	if l := &p.last; l.fam != nil && string(l.name) == p.tokString() {
		p.cur = l.fam
		p.summaryCount, p.summarySum, p.histCount, p.histSum = l.summaryCount, l.summarySum, l.histCount, l.histSum
		return
	}
	if p.resolveFamily(); p.err == nil {
		p.last = resolved{append(p.last.name[:0], p.tok...), p.cur, p.summaryCount, p.summarySum, p.histCount, p.histSum}
	}
}

// resolveFamily is setOrCreateFamily without the cache.
func (p *TextParser) resolveFamily() {
	p.summaryCount, p.summarySum, p.histCount, p.histSum = false, false, false, false
	name := p.tokString()
	if !p.plain && !p.scheme.IsValidMetricName(name) {
		p.parseError(fmt.Sprintf("invalid metric name %q", name))
		return
	}
	if p.cur = p.family(name); p.cur != nil {
		return
	}
	count, sum := isSuffix(name, "_count"), isSuffix(name, "_sum")
	if count || sum {
		base := name[:len(name)-len("_sum")]
		if count {
			base = name[:len(name)-len("_count")]
		}
		if f := p.family(base); f != nil {
			if f.typed && f.Type == dto.MetricType_SUMMARY {
				p.cur, p.summaryCount, p.summarySum = f, count, sum
				return
			}
			if f.typed && isHistogram(f.Type) {
				p.cur, p.histCount, p.histSum = f, count, sum
				return
			}
		}
	} else if isSuffix(name, "_bucket") {
		if f := p.family(name[:len(name)-len("_bucket")]); f != nil && f.typed && isHistogram(f.Type) {
			p.cur = f
			return
		}
	}
	f := p.fams[name]
	if f == nil {
		f = &TextFamily{Name: string(p.tok)}
		p.fams[f.Name] = f
	} else {
		// Keep the old HELP string: readingHelp reuses it when unchanged.
		*f = TextFamily{Name: f.Name, prevHelp: f.Help}
	}
	f.gen = p.gen
	p.live++
	p.cur = f
}

// isSuffix is expfmt's isCount/isSum/isBucket: the suffix and at least one
// byte before it.
func isSuffix(name, suffix string) bool {
	return len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix
}

// parseFloat is expfmt's: strconv.ParseFloat without hex exponents or
// underscores.
func parseFloat(s string) (float64, error) {
	if f, ok := shortDecimal(s); ok {
		return f, nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 'p' || c == 'P' || c == '_' {
			return 0, errUnsupportedFloat
		}
	}
	return strconv.ParseFloat(s, 64)
}

var errUnsupportedFloat = errors.New("unsupported character in float")

// shortDecimal parses the common value, [+-]digits[.digits] with at least
// one and at most 15 digits, to what strconv.ParseFloat answers: the
// digits fit a float64 exactly and so does the power of ten they are
// divided by, and IEEE division rounds the quotient correctly, as
// strconv's own exact path does. It answers false for anything else.
func shortDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		i, neg = 1, s[0] == '-'
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

var pow10 = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// readByte is bufio.Reader.ReadByte into p.b and p.err.
func (p *TextParser) readByte() {
	if p.pos < p.end {
		p.b = p.buf[p.pos]
		p.pos++
		return
	}
	p.fill()
}

func (p *TextParser) fill() {
	if p.aliased {
		p.tok, p.aliased = append(p.own[:0], p.tok...), false
	}
	for p.rerr == nil {
		n, err := p.r.Read(p.buf)
		p.pos, p.end, p.rerr = 0, n, err
		if n > 0 {
			p.b = p.buf[0]
			p.pos = 1
			return
		}
		if err == nil {
			continue
		}
	}
	p.b, p.err = 0, p.rerr
}

// startTok empties the token, in the parser's own storage.
func (p *TextParser) startTok() {
	if p.aliased {
		p.tok, p.aliased = p.own, false
	}
	p.tok, p.plain, p.ascii = p.tok[:0], false, false
}

// aliasTok makes the token buf[from:to] without a copy, right after
// startTok; fill copies it out before it reads into the buffer again. A
// byte read last from the buffer is at p.pos-1 (p.b); the alias has no
// room to append into the buffer.
func (p *TextParser) aliasTok(from, to int) {
	p.own, p.tok, p.aliased = p.tok, p.buf[from:to:to], true
}

func isBlankOrTab(b byte) bool { return b == ' ' || b == '\t' }

func (p *TextParser) skipBlankTab() {
	// Fast path: the blanks and the byte after them from the read buffer.
	buf, i := p.buf[:p.end], p.pos
	for i < len(buf) && isBlankOrTab(buf[i]) {
		i++
	}
	if i < len(buf) {
		p.b, p.pos = buf[i], i+1
		return
	}
	p.pos = i
	for {
		if p.readByte(); p.err != nil || !isBlankOrTab(p.b) {
			return
		}
	}
}

func (p *TextParser) skipBlankTabIfCurrentBlankTab() {
	if isBlankOrTab(p.b) {
		p.skipBlankTab()
	}
}

func (p *TextParser) readTokenUntilWhitespace() {
	p.startTok()
	if p.err == nil && !isBlankOrTab(p.b) && p.b != '\n' {
		// Fast path: the rest of the token from the read buffer at once.
		buf, i := p.buf[:p.end], p.pos
		for i < len(buf) && !isBlankOrTab(buf[i]) && buf[i] != '\n' {
			i++
		}
		if i < len(buf) {
			p.aliasTok(p.pos-1, i)
			p.b, p.pos = buf[i], i+1
			return
		}
		p.tok = append(p.tok, p.b)
		p.tok = append(p.tok, buf[p.pos:i]...)
		p.pos = i
		p.readByte()
	}
	for p.err == nil && !isBlankOrTab(p.b) && p.b != '\n' {
		p.tok = append(p.tok, p.b)
		p.readByte()
	}
}

// unescape appends what the escape sequence ending in p.b stands for, or
// records the parse error and answers false.
func (p *TextParser) unescape() bool {
	switch p.b {
	case '\\':
		p.tok = append(p.tok, '\\')
	case 'n':
		p.tok = append(p.tok, '\n')
	case '"':
		p.tok = append(p.tok, '"')
	default:
		p.parseError(fmt.Sprintf("invalid escape sequence '\\%c'", p.b))
		return false
	}
	return true
}

func (p *TextParser) readTokenUntilNewline(escapes bool) {
	p.startTok()
	escaped := false
	for p.err == nil {
		if escapes && escaped {
			if !p.unescape() {
				return
			}
			escaped = false
		} else {
			switch p.b {
			case '\n':
				return
			case '\\':
				escaped = true
			default:
				p.tok = append(p.tok, p.b)
			}
		}
		p.readByte()
	}
}

func isLabelNameStart(b byte) bool {
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_' || b == '"'
}

// isLabelNameContinuation follows expfmt, whose check for a quoted name
// (utf8.ValidString(string(b)), the rune b encoded) holds for every byte.
func isLabelNameContinuation(b byte, quoted bool) bool {
	return isLabelNameStart(b) || (b >= '0' && b <= '9') || quoted
}

// plainName says which bytes continue an unquoted name and cannot change
// how the rest is read (unlike a quote): [a-zA-Z0-9_] in both kinds of
// name (plainLabel|plainMetric), ':' in a metric name only.
var plainName = func() (t [256]uint8) {
	for c := range 256 {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' {
			t[c] = plainLabel | plainMetric
		}
	}
	t[':'] = plainMetric
	return t
}()

const (
	plainLabel uint8 = 1 << iota
	plainMetric
)

func isMetricNameStart(b byte) bool { return isLabelNameStart(b) || b == ':' }

func isMetricNameContinuation(b byte, quoted bool) bool {
	return isLabelNameContinuation(b, quoted) || b == ':'
}

// readName reads a metric name (metric true) or a label name, either of
// which may be quoted with escapes in it.
func (p *TextParser) readName(metric bool) {
	p.startTok()
	quoted, escaped := false, false
	start, cont, what, stop, plain := isLabelNameStart, isLabelNameContinuation, "label name", byte('='), plainLabel
	if metric {
		start, cont, what, stop, plain = isMetricNameStart, isMetricNameContinuation, "metric name", ' ', plainMetric
	}
	if !start(p.b) {
		return
	}
	if p.b != '"' {
		// Fast path for an unquoted name: the run of plain name bytes
		// from the read buffer at once; a quote or the buffer's end goes
		// on byte by byte.
		buf, i := p.buf[:p.end], p.pos
		for i < len(buf) && plainName[buf[i]]&plain != 0 {
			i++
		}
		if i < len(buf) && buf[i] != '"' {
			p.aliasTok(p.pos-1, i)
			p.b, p.pos = buf[i], i+1
			p.plain = true
			return
		}
		if i > p.pos {
			p.tok = append(p.tok, p.b)
			p.tok = append(p.tok, p.buf[p.pos:i-1]...)
			p.b, p.pos = p.buf[i-1], i
		}
	}
	for p.err == nil {
		if escaped {
			if !p.unescape() {
				return
			}
			escaped = false
		} else {
			switch p.b {
			case '"':
				quoted = !quoted
				if !quoted {
					p.readByte()
					return
				}
			case '\n':
				p.parseError(fmt.Sprintf("%s %q contains unescaped new-line", what, p.tokString()))
				return
			case '\\':
				escaped = true
			default:
				p.tok = append(p.tok, p.b)
			}
		}
		p.readByte()
		if !cont(p.b, quoted) || (!quoted && p.b == stop) {
			return
		}
	}
}

func (p *TextParser) readTokenAsMetricName() { p.readName(true) }

func (p *TextParser) readTokenAsLabelName() { p.readName(false) }

func (p *TextParser) readTokenAsLabelValue() {
	p.startTok()
	// Fast path: the value up to its closing quote from the read buffer
	// at once, when it has no escape or newline before it.
	buf, i, or := p.buf[:p.end], p.asciiRun(), byte(0)
	for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] != '\n' {
		or |= buf[i]
		i++
	}
	if i < len(buf) && buf[i] == '"' {
		p.aliasTok(p.pos, i)
		p.b, p.pos = '"', i+1
		p.ascii = or < utf8.RuneSelf
		return
	}
	p.tok = append(p.tok, buf[p.pos:i]...)
	p.pos = i
	escaped := false
	for {
		if p.readByte(); p.err != nil {
			return
		}
		if escaped {
			switch p.b {
			case '"', '\\':
				p.tok = append(p.tok, p.b)
			case 'n':
				p.tok = append(p.tok, '\n')
			default:
				p.parseError(fmt.Sprintf("invalid escape sequence '\\%c'", p.b))
				return
			}
			escaped = false
			continue
		}
		switch p.b {
		case '"':
			return
		case '\n':
			p.parseError(fmt.Sprintf("label value %q contains unescaped new-line", p.tokString()))
			return
		case '\\':
			escaped = true
		default:
			p.tok = append(p.tok, p.b)
		}
	}
}

// asciiRun returns where, from p.pos in the read buffer, the first '"',
// '\\', '\n' or byte >= 0x80 is, read 8 bytes a word; or where the last
// whole word ends when there is none. The bytes before it are what a label
// value's fast path takes without looking at each one.
func (p *TextParser) asciiRun() int {
	buf, i := p.buf[:p.end], p.pos
	for i+8 <= len(buf) {
		x := binary.LittleEndian.Uint64(buf[i:])
		if m := hasByte(x, '"') | hasByte(x, '\\') | hasByte(x, '\n') | x&highBits; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	return i
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasByte marks (0x80) the bytes of x that are c, and may mark bytes above
// the lowest one that is: the lowest mark, and whether there is one, are
// exact (a borrow only runs up from a real match). A byte of x >= 0x80
// never matches an ASCII c.
func hasByte(x uint64, c byte) uint64 {
	y := x ^ (lowBits * uint64(c))
	return (y - lowBits) &^ y & highBits
}
