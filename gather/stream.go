package gather

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// ParseError is StreamText's error for an exposition that cannot be read
// or parsed, as opposed to one that parses but does not convert. Its text
// is the reader's own (scrape.Parse's).
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// StreamText converts a Prometheus text exposition (0.0.4) into exactly the
// series Convert makes of what scrape.Parse(r, contentType) returns, without
// holding the exposition, its MetricFamily tree or its series: it parses
// with scrape.TextParser and hands the series to emit in batches of at most
// batch series. Each batch, and the strings of its labels, are valid only
// until emit returns. The first batch carries every family's Metadata,
// sorted by name, as Convert's request does; emit is called at least once
// (with an empty request when there is nothing to send), and an error from
// emit stops StreamText and is returned as is, with the Report of the
// whole exposition (what the checking read found).
//
// open is called twice (three times on the fallback below): the first read
// checks the whole exposition and keeps only its metadata and 8 bytes per
// series, so that an exposition that does not parse or convert is refused
// before emit sees anything, with the error the tree path gives (a
// *ParseError for what scrape.Parse refuses). The second read converts.
//
// The series are the same, and so is the Report; their order is the
// exposition's (a family's series where the family first appears) where
// Convert's is sorted by family name. What a stream cannot reproduce
// exactly is converted through the tree instead (scrape.Parse and Convert,
// emitted in batches all the same): an exposition that does not parse or
// convert, one with a repeated series (64-bit hashes match), a histogram
// or summary family whose lines are split by another family's, such a line
// with its name inside the braces, or one over scrape.MaxBodyBytes.
func StreamText(open func() (io.Reader, error), contentType string, opts Options, batch int, emit func(*wire.WriteRequest) error) (Report, error) {
	rep, _, err := streamText(open, contentType, opts, batch, emit)
	return rep, err
}

// streamText is StreamText; it also says why it used the tree, if it did.
func streamText(open func() (io.Reader, error), contentType string, opts Options, batch int, emit func(*wire.WriteRequest) error) (Report, string, error) {
	if batch < 1 {
		return Report{}, "", fmt.Errorf("gather: StreamText batch size %d: want at least 1 series", batch)
	}
	check, err := newTextStream(opts, batch, nil)
	if err != nil {
		return Report{}, "", err
	}
	rep, why, err := check.run(open)
	if err != nil {
		return Report{}, "", err
	}
	if why != "" {
		rep, err := treeText(open, contentType, opts, batch, emit)
		return rep, why, err
	}
	conv, _ := newTextStream(opts, batch, emit)
	conv.meta = check.metadata()
	again, why, err := conv.run(open)
	switch {
	case conv.emitErr != nil:
		return rep, "", conv.emitErr
	case err != nil || why != "" || !sameReport(again, rep):
		return rep, "", fmt.Errorf("gather: the exposition changed between its two reads (%v%s); what emit was given was sent", err, why)
	}
	return rep, "", nil
}

func sameReport(a, b Report) bool {
	return a.Families == b.Families && a.Series == b.Series && a.Samples == b.Samples &&
		a.Histograms == b.Histograms && a.Exemplars == b.Exemplars && len(a.Notes) == len(b.Notes)
}

// treeText is the path StreamText replaces: the whole MetricFamily tree,
// converted at once, emitted in batches.
func treeText(open func() (io.Reader, error), contentType string, opts Options, batch int, emit func(*wire.WriteRequest) error) (Report, error) {
	r, err := open()
	if err != nil {
		return Report{}, &ParseError{Err: err}
	}
	fams, err := scrape.Parse(r, contentType)
	if err != nil {
		return Report{}, &ParseError{Err: err}
	}
	req, rep, err := Convert(fams, opts)
	if err != nil {
		return Report{}, err
	}
	for i := 0; i == 0 || i < len(req.Series); i += batch {
		sub := wire.WriteRequest{Series: req.Series[i:min(i+batch, len(req.Series))]}
		if i == 0 {
			sub.Metadata = req.Metadata
		}
		if err := emit(&sub); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// textStream converts one read of a text exposition. Without emit it is
// the checking read: it keeps every series' hash and the families'
// metadata, and hands nothing out.
type textStream struct {
	c       *Converter
	batch   int
	emit    func(*wire.WriteRequest) error
	emitErr error
	emitted bool
	req     wire.WriteRequest
	strs    arena

	meta   map[string]wire.Metadata // the converting read: every family's, from the checking read
	fams   map[*scrape.TextFamily]bool
	closed map[*scrape.TextFamily]bool // histogram and summary families whose metrics were converted
	cur    *scrape.TextFamily
	fam    *dto.MetricFamily
	md     wire.Metadata

	// The current counter, gauge or untyped line as a *dto.Metric, reused.
	m     dto.Metric
	pairs []*dto.LabelPair
	names []string
	value float64
	ts    int64
	cnt   dto.Counter
	gauge dto.Gauge
	unt   dto.Untyped

	// The current histogram or summary family's metrics, built as expfmt
	// builds them, converted when the family ends.
	group    []*dto.Metric
	groupIdx map[string]int
	key      []byte
	sorted   []wire.Label
}

func newTextStream(opts Options, batch int, emit func(*wire.WriteRequest) error) (*textStream, error) {
	c, err := NewConverter(opts)
	if err != nil {
		return nil, err
	}
	c.once, c.stream = true, true
	t := &textStream{c: c, batch: batch, emit: emit, fams: map[*scrape.TextFamily]bool{}, closed: map[*scrape.TextFamily]bool{}, groupIdx: map[string]int{}}
	t.cnt.Value, t.gauge.Value, t.unt.Value = &t.value, &t.value, &t.value
	return t, nil
}

// run reads the exposition once. why is set when the stream cannot give
// the tree path's result; err is what open returned.
func (t *textStream) run(open func() (io.Reader, error)) (rep Report, why string, err error) {
	r, err := open()
	if err != nil {
		return Report{}, "", &ParseError{Err: err}
	}
	lr := &io.LimitedReader{R: r, N: scrape.MaxBodyBytes + 1}
	p := scrape.NewTextParser(lr, model.LegacyValidation)
	t.req.Metadata = t.metadataList()
	for p.Next() {
		if why = t.sample(p.Sample()); why != "" {
			return Report{}, why, nil
		}
	}
	switch {
	case lr.N == 0:
		return Report{}, "over scrape.MaxBodyBytes", nil
	case p.Err() != nil:
		return Report{}, "parse error", nil
	}
	if why = t.endFamily(); why != "" {
		return Report{}, why, nil
	}
	if why = t.finish(); why != "" {
		return Report{}, why, nil
	}
	rep = t.c.report
	rep.Families = len(t.fams)
	return rep, "", nil
}

// finish checks the whole read and hands out the last batch.
func (t *textStream) finish() string {
	if len(t.c.conflicts) > 0 {
		return "label conflict"
	}
	if t.emit == nil {
		h := t.c.curHashes
		slices.Sort(h)
		for i := 1; i < len(h); i++ {
			if h[i] == h[i-1] {
				return "repeated series"
			}
		}
		return ""
	}
	for len(t.req.Series) > 0 || !t.emitted {
		if why := t.flush(); why != "" {
			return why
		}
	}
	return ""
}

// sample converts one line, or says why the stream cannot.
func (t *textStream) sample(s *scrape.TextSample) string {
	f := s.Family
	if f != t.cur {
		if why := t.endFamily(); why != "" {
			return why
		}
		if t.closed[f] {
			return "histogram or summary family split by another family's lines"
		}
		t.startFamily(f)
	}
	var err error
	switch f.Type {
	case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		if s.NameInBraces {
			return "histogram or summary line with its name inside the braces"
		}
		t.addToGroup(s)
	default:
		err = t.simple(s)
	}
	if err != nil {
		return "conversion error"
	}
	if len(t.req.Series) >= t.batch {
		return t.flush()
	}
	return ""
}

func (t *textStream) startFamily(f *scrape.TextFamily) {
	t.cur, t.fams[f] = f, true
	typ := f.Type
	t.fam = &dto.MetricFamily{Name: &f.Name, Type: &typ}
	if md, ok := t.meta[f.Name]; ok {
		t.md = md
		return
	}
	mt, _ := metricType(f.Type)
	t.md = wire.Metadata{Type: mt, FamilyName: f.Name, Help: f.Help}
}

// endFamily converts the histogram or summary metrics of the family that
// ends.
func (t *textStream) endFamily() string {
	if len(t.group) == 0 {
		return ""
	}
	t.closed[t.cur] = true
	for j, m := range t.group {
		normalizeHistogram(m.GetHistogram())
		if _, err := t.c.metric(&t.req, t.fam, nil, j, m, &t.md); err != nil {
			return "conversion error"
		}
		if len(t.req.Series) >= t.batch {
			if why := t.flush(); why != "" {
				return why
			}
		}
	}
	clear(t.group)
	t.group = t.group[:0]
	clear(t.groupIdx)
	return ""
}

// flush hands out the series made so far in batches of exactly t.batch
// (the last one at the end of the read may be smaller), and reuses their
// storage. A histogram's or summary's series over the batch wait for the
// next one: their labels are not in the arena, which the next batch reuses.
func (t *textStream) flush() string {
	for {
		n := min(len(t.req.Series), t.batch)
		if t.emit != nil {
			if t.emitErr = t.emit(&wire.WriteRequest{Series: t.req.Series[:n], Metadata: t.req.Metadata}); t.emitErr != nil {
				return "emit"
			}
			t.c.curHashes = t.c.curHashes[:0] // only the checking read keeps them
		}
		t.emitted = true
		rest := len(t.req.Series) - n
		for i := range rest {
			t.req.Series[i], t.req.Series[n+i] = t.req.Series[n+i], t.req.Series[i]
		}
		t.req.Series, t.req.Metadata = t.req.Series[:rest], nil
		if rest < t.batch {
			break
		}
	}
	t.strs.reset()
	return ""
}

// simple converts a counter, gauge or untyped line through a reused
// *dto.Metric, its label strings copied into the batch's arena.
func (t *textStream) simple(s *scrape.TextSample) error {
	n := len(s.Labels)
	for len(t.pairs) < n {
		t.pairs = append(t.pairs, &dto.LabelPair{})
	}
	t.names = slices.Grow(t.names[:0], 2*n)[:2*n]
	for i, l := range s.Labels {
		t.names[2*i], t.names[2*i+1] = t.strs.str(l.Name), t.strs.str(l.Value)
		t.pairs[i].Name, t.pairs[i].Value = &t.names[2*i], &t.names[2*i+1]
	}
	t.m.Label = t.pairs[:n]
	t.m.Counter, t.m.Gauge, t.m.Untyped, t.m.TimestampMs = nil, nil, nil, nil
	t.value = s.Value
	switch t.cur.Type {
	case dto.MetricType_COUNTER:
		t.m.Counter = &t.cnt
	case dto.MetricType_GAUGE:
		t.m.Gauge = &t.gauge
	default:
		t.m.Untyped = &t.unt
	}
	if s.HasTimestamp {
		t.ts = s.Timestamp
		t.m.TimestampMs = &t.ts
	}
	_, err := t.c.metric(&t.req, t.fam, nil, 0, &t.m, &t.md)
	return err
}

// addToGroup adds a histogram or summary line to its metric as expfmt's
// parser does (TextParser.readingValue): the metric is the family's one
// with the same labels, le and quantile aside, created by its first line,
// whose labels it keeps; the last _sum, _count and timestamp win.
func (t *textStream) addToGroup(s *scrape.TextSample) {
	t.sorted = append(t.sorted[:0], s.Labels...)
	if !s.Sorted {
		slices.SortFunc(t.sorted, wire.CompareLabels)
	}
	t.key = t.key[:0]
	for _, l := range t.sorted {
		t.key = append(append(append(append(t.key, l.Name...), 0xff), l.Value...), 0xff)
	}
	j, ok := t.groupIdx[string(t.key)]
	if !ok {
		m := &dto.Metric{Label: make([]*dto.LabelPair, len(s.Labels))}
		for i, l := range s.Labels {
			name, value := strings.Clone(l.Name), strings.Clone(l.Value)
			m.Label[i] = &dto.LabelPair{Name: &name, Value: &value}
		}
		j = len(t.group)
		t.group = append(t.group, m)
		t.groupIdx[string(t.key)] = j
	}
	m := t.group[j]
	if s.HasTimestamp {
		ts := s.Timestamp
		m.TimestampMs = &ts
	}
	if t.cur.Type == dto.MetricType_SUMMARY {
		summaryLine(m, s)
		return
	}
	histogramLine(m, s)
}

func summaryLine(m *dto.Metric, s *scrape.TextSample) {
	if m.Summary == nil {
		m.Summary = &dto.Summary{}
	}
	v := s.Value
	switch s.Kind {
	case scrape.KindCount:
		n := uint64(v)
		m.Summary.SampleCount = &n
	case scrape.KindSum:
		m.Summary.SampleSum = &v
	case scrape.KindQuantile:
		q := s.Bound
		m.Summary.Quantile = append(m.Summary.Quantile, &dto.Quantile{Quantile: &q, Value: &v})
	}
}

// histogramLine: a whole count is an integer count, anything else a float
// one (TextParser has refused negative ones).
func histogramLine(m *dto.Metric, s *scrape.TextSample) {
	if m.Histogram == nil {
		m.Histogram = &dto.Histogram{}
	}
	h, v := m.Histogram, s.Value
	u := uint64(v)
	whole := v == float64(u)
	switch s.Kind {
	case scrape.KindCount:
		if whole {
			h.SampleCount = &u
		} else {
			h.SampleCountFloat = &v
		}
	case scrape.KindSum:
		h.SampleSum = &v
	case scrape.KindBucket:
		le := s.Bound
		b := &dto.Bucket{UpperBound: &le}
		if whole {
			b.CumulativeCount = &u
		} else {
			b.CumulativeCountFloat = &v
		}
		h.Bucket = append(h.Bucket, b)
	}
}

// normalizeHistogram is what expfmt's text parser does to every histogram
// it returns (normalizeHistogram in prometheus/common's text_parse.go):
// when any count is a float, every count becomes one.
func normalizeHistogram(h *dto.Histogram) {
	if h == nil {
		return
	}
	floats := h.GetSampleCountFloat() != 0
	for _, b := range h.GetBucket() {
		floats = floats || b.GetCumulativeCountFloat() != 0
	}
	if !floats {
		return
	}
	if h.GetSampleCountFloat() == 0 {
		f := float64(h.GetSampleCount())
		h.SampleCountFloat, h.SampleCount = &f, nil
	}
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCountFloat() == 0 {
			f := float64(b.GetCumulativeCount())
			b.CumulativeCountFloat, b.CumulativeCount = &f, nil
		}
	}
}

// metadata is the checking read's metadata of every family with samples,
// by name.
func (t *textStream) metadata() map[string]wire.Metadata {
	out := make(map[string]wire.Metadata, len(t.fams))
	for f := range t.fams {
		mt, _ := metricType(f.Type)
		out[f.Name] = wire.Metadata{Type: mt, FamilyName: f.Name, Help: f.Help}
	}
	return out
}

// metadataList is t.meta sorted by family name, as Convert orders it.
func (t *textStream) metadataList() []wire.Metadata {
	if len(t.meta) == 0 {
		return nil
	}
	out := make([]wire.Metadata, 0, len(t.meta))
	for _, md := range t.meta {
		out = append(out, md)
	}
	slices.SortFunc(out, func(a, b wire.Metadata) int { return strings.Compare(a.FamilyName, b.FamilyName) })
	return out
}

// arena holds the label strings of one batch in chunks, all reused once
// the batch is handed out.
type arena struct {
	chunks [][]byte
	i      int // the chunk being filled
}

func (a *arena) str(s string) string {
	if s == "" {
		return ""
	}
	if len(a.chunks) == 0 {
		a.chunks = append(a.chunks, make([]byte, 0, max(64<<10, len(s))))
	}
	c := &a.chunks[a.i]
	for cap(*c)-len(*c) < len(s) {
		if a.i++; a.i == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, 0, max(64<<10, len(s))))
		}
		c = &a.chunks[a.i]
		*c = (*c)[:0]
	}
	*c = append(*c, s...)
	return unsafe.String(&(*c)[len(*c)-len(s)], len(s))
}

func (a *arena) reset() {
	a.i = 0
	if len(a.chunks) > 0 {
		a.chunks[0] = a.chunks[0][:0]
	}
}
