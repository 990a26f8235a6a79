package gather

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// Note reports something a conversion did that the caller should know:
// data that could not be sent in the form it was exposed in.
type Note struct {
	// Family is the metric family concerned.
	Family string
	// Series is how many metrics of the family it concerns.
	Series int
	// Message says what happened and how to change it.
	Message string
}

func (n Note) String() string {
	return fmt.Sprintf("family %q (%d series): %s", n.Family, n.Series, n.Message)
}

// Report counts what a conversion produced.
type Report struct {
	Families   int
	Series     int
	Samples    int
	Histograms int
	Exemplars  int
	Notes      []Note
}

// Converter converts metric families into remote-write series. It keeps
// scratch space and small caches (formatted bucket bounds, suffixed names)
// between calls so that converting the same registry every interval
// allocates little. A Converter is not safe for concurrent use.
//
// A Converter also keeps each counter, gauge and untyped series' finished
// labels and the *dto.LabelPair pointers they came from: a metric whose
// label pairs are the very pointers of the last conversion is taken to
// have the same labels, without reading them. A Gatherer must therefore
// not change a label pair it has handed out (e.g. set a new Value on a
// kept *dto.LabelPair): it must hand out a new pair instead. client_golang's
// metrics never change theirs (concurrent Gathers share them), and a
// Collector that did would already race with every concurrent Gather.
type Converter struct {
	opts   Options
	extra  []wire.Label
	scheme model.ValidationScheme

	own        []wire.Label // labels of the current metric, sorted, empty values dropped
	base       []wire.Label // own + extra labels, sorted; no __name__
	renames    []wire.Label // own labels to re-add as exported_<name>
	conflicted bool         // the current metric collides with an extra label
	floats     map[uint64]string
	names      map[string]*familyNames
	seen       map[uint64]int
	hash       maphash.Hash
	conflicts  []LabelConflict
	report     Report

	// Kept between conversions (cache.go).
	fams        []*famCache
	hitLabels   []wire.Label // the current metric's cached labels, on a hit
	hitHash     uint64
	record      *famCache        // where series keeps the current metric's labels, on a miss
	recordPairs []*dto.LabelPair // the current metric's label pairs, kept with them
	caching     bool             // this Append uses the cache (not under ShareLabels into a non-empty req)
	once        bool             // made by Convert or FromGatherer for one Append: a cache would never be read
	stream      bool             // StreamText's: series only hashed into curHashes, checked for repeats at the end
	// Duplicate checks: while the series of this conversion hash as a
	// prefix of the last successful conversion's (which had no duplicate),
	// seen is not filled; it is filled at the first difference.
	prevHashes, curHashes []uint64
	prevOK, lazy          bool
	first                 int // len(req.Series) when Append began
}

type familyNames struct{ bucket, sum, count string }

// Cache bounds: a long-running agent may see arbitrary expositions; the
// caches are dropped, not grown without end.
const maxCached = 1 << 14

// NewConverter validates opts and returns a Converter.
func NewConverter(opts Options) (*Converter, error) {
	extra, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Converter{
		opts:   opts,
		extra:  extra,
		scheme: opts.scheme(),
		floats: make(map[uint64]string),
		names:  make(map[string]*familyNames),
		seen:   make(map[uint64]int),
	}, nil
}

// SetTimestamp changes the batch timestamp (milliseconds) for the next
// conversions, so that one Converter serves every push interval.
func (c *Converter) SetTimestamp(ms int64) error {
	if ms == 0 {
		return fmt.Errorf("gather: batch timestamp is 0; use e.g. time.Now().UnixMilli()")
	}
	c.opts.Timestamp = ms
	return nil
}

// Convert converts families into a new WriteRequest; see Converter.Append.
func Convert(families []*dto.MetricFamily, opts Options) (*wire.WriteRequest, Report, error) {
	c, err := NewConverter(opts)
	if err != nil {
		return nil, Report{}, err
	}
	c.once = true
	req := &wire.WriteRequest{}
	rep, err := c.Append(req, families)
	if err != nil {
		return nil, Report{}, err
	}
	return req, rep, nil
}

// Append converts families and appends one series per sample stream to
// req.Series and one Metadata per non-empty family to req.Metadata, in input
// order: families as given (a Gatherer and ParseText both sort them by
// name), metrics in family order, and within a summary or classic histogram
// the quantiles or buckets, then _sum, then _count.
//
// Append reuses the storage of req beyond its length: to reuse a request,
// truncate it (req.Series = req.Series[:0]; req.Metadata =
// req.Metadata[:0]) and do not keep references into its old series. Native
// histogram bucket slices are shared with the families, not copied.
//
// On error req is left as it was and the Report is empty. Errors name the
// family and the series.
func (c *Converter) Append(req *wire.WriteRequest, families []*dto.MetricFamily) (Report, error) {
	c.report = Report{}
	c.conflicts = c.conflicts[:0]
	clear(c.seen)
	if len(c.floats) > maxCached {
		clear(c.floats)
	}
	if len(c.names) > maxCached {
		clear(c.names)
	}
	nSeries, nMeta := len(req.Series), len(req.Metadata)
	c.caching = !c.once && (nSeries == 0 || !c.opts.ShareLabels)
	// One series per counter, gauge or untyped metric at least: grown once
	// rather than doubled along the way, which for a large exposition
	// allocated twice the final array (issue 18's profile of push --file).
	// Storage beyond len is kept, for reuse.
	req.Series = slices.Grow(req.Series, metrics(families))
	c.first, c.lazy, c.curHashes = nSeries, c.prevOK, c.curHashes[:0]
	c.prevOK = false
	if len(c.fams) > len(families) {
		clear(c.fams[len(families):])
		c.fams = c.fams[:len(families)]
	}
	fail := func(err error) (Report, error) {
		req.Series, req.Metadata = req.Series[:nSeries], req.Metadata[:nMeta]
		return Report{}, err
	}
	for fi, fam := range families {
		if err := c.family(req, fi, fam); err != nil {
			return fail(err)
		}
	}
	if len(c.conflicts) > 0 {
		all := slices.Clone(c.conflicts)
		return fail(&LabelConflictError{LabelConflict: all[0], Conflicts: all})
	}
	c.prevHashes, c.curHashes = c.curHashes, c.prevHashes
	c.prevOK = true
	return c.report, nil
}

// metrics counts the metrics of families.
func metrics(families []*dto.MetricFamily) int {
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	return n
}

func metricType(t dto.MetricType) (wire.MetricType, bool) {
	switch t {
	case dto.MetricType_COUNTER:
		return wire.MetricTypeCounter, true
	case dto.MetricType_GAUGE:
		return wire.MetricTypeGauge, true
	case dto.MetricType_SUMMARY:
		return wire.MetricTypeSummary, true
	case dto.MetricType_UNTYPED:
		return wire.MetricTypeUnknown, true
	case dto.MetricType_HISTOGRAM:
		return wire.MetricTypeHistogram, true
	case dto.MetricType_GAUGE_HISTOGRAM:
		return wire.MetricTypeGaugeHistogram, true
	}
	return 0, false
}

func (c *Converter) family(req *wire.WriteRequest, fi int, fam *dto.MetricFamily) error {
	if fam == nil || len(fam.GetMetric()) == 0 {
		return nil
	}
	name := fam.GetName()
	if name == "" {
		return fmt.Errorf("gather: a metric family has an empty name (%d metrics, type %s)", len(fam.GetMetric()), fam.GetType())
	}
	if !c.scheme.IsValidMetricName(name) {
		return fmt.Errorf("gather: family %q: metric name is invalid under %s name validation", name, c.scheme)
	}
	mt, ok := metricType(fam.GetType())
	if !ok {
		return fmt.Errorf("gather: family %q: unknown metric type %d", name, int32(fam.GetType()))
	}
	md := wire.Metadata{Type: mt, FamilyName: name, Help: fam.GetHelp(), Unit: fam.GetUnit()}
	req.Metadata = append(req.Metadata, md)
	c.report.Families++
	onlyInf := 0 // native histograms sent as _sum, _count and a lone +Inf bucket
	fc := c.cacheFamily(fi, fam)
	for j, m := range fam.GetMetric() {
		if m == nil {
			continue
		}
		lossy, err := c.metric(req, fam, fc, j, m, &md)
		if err != nil {
			return err
		}
		if lossy {
			onlyInf++
		}
	}
	if fc != nil && len(fc.ends) > len(fam.GetMetric()) {
		fc.truncate(len(fam.GetMetric()))
	}
	if onlyInf > 0 {
		c.report.Notes = append(c.report.Notes, Note{
			Family: name,
			Series: onlyInf,
			Message: "native histogram without classic buckets sent as _sum, _count and _bucket{le=\"+Inf\"} only " +
				"(as Prometheus stores it with native histograms off); its buckets were not sent: " +
				"set Options.NativeHistograms if the backend accepts native histograms, or give the histogram classic buckets",
		})
	}
	return nil
}

// metric converts one metric. lossy reports a native histogram whose
// buckets could not be sent.
func (c *Converter) metric(req *wire.WriteRequest, fam *dto.MetricFamily, fc *famCache, j int, m *dto.Metric, md *wire.Metadata) (lossy bool, err error) {
	name := fam.GetName()
	ts := c.opts.Timestamp
	// The exposition's own timestamps are ignored by default: a push is a
	// snapshot taken at one instant, and one timestamp per request is what
	// kept the seed's writers out of out-of-order and duplicate refusals.
	if c.opts.HonorTimestamps && m.TimestampMs != nil {
		ts = m.GetTimestampMs()
	}
	if err := c.labelsOf(fam, fc, j, m); err != nil {
		return false, err
	}
	missing := func(kind string) error {
		return fmt.Errorf("gather: family %q series %s: %s family has a metric without a %s value",
			name, metricString(name, m), fam.GetType(), kind)
	}

	switch fam.GetType() {
	case dto.MetricType_COUNTER:
		v := m.GetCounter()
		if v == nil {
			return false, missing("counter")
		}
		return false, c.counter(req, md, name, v, ts)
	case dto.MetricType_GAUGE:
		v := m.GetGauge()
		if v == nil {
			return false, missing("gauge")
		}
		return false, c.simple(req, md, name, v.GetValue(), ts, 0)
	case dto.MetricType_UNTYPED:
		v := m.GetUntyped()
		if v == nil {
			return false, missing("untyped")
		}
		return false, c.simple(req, md, name, v.GetValue(), ts, 0)
	case dto.MetricType_SUMMARY:
		v := m.GetSummary()
		if v == nil {
			return false, missing("summary")
		}
		return false, c.summary(req, md, name, v, ts)
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		v := m.GetHistogram()
		if v == nil {
			return false, missing("histogram")
		}
		return c.histogram(req, fam, m, md, v, ts)
	}
	return false, nil
}

// labelsOf readies m's labels for the series it makes: the family's cache
// when it holds them (lookup), else setBase checks and builds them,
// reserving the label the family's type adds to its series.
func (c *Converter) labelsOf(fam *dto.MetricFamily, fc *famCache, j int, m *dto.Metric) error {
	if c.lookup(fc, j, m) {
		c.conflicted = false
		return nil
	}
	reserved := ""
	switch fam.GetType() {
	case dto.MetricType_SUMMARY:
		reserved = model.QuantileLabel
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		reserved = model.BucketLabel
	}
	return c.setBase(fam.GetName(), m, reserved)
}

// counter converts a counter: its sample, started at its created
// timestamp, and its exemplar.
func (c *Converter) counter(req *wire.WriteRequest, md *wire.Metadata, name string, v *dto.Counter, ts int64) error {
	s, err := c.series(req, md, name, "", "")
	if err != nil {
		return err
	}
	c.sample(s, v.GetValue(), ts, c.start(v.GetCreatedTimestamp()))
	c.exemplar(s, v.GetExemplar(), ts)
	return nil
}

// summary converts a summary: a series per quantile, then _sum and
// _count, all started at its created timestamp.
func (c *Converter) summary(req *wire.WriteRequest, md *wire.Metadata, name string, v *dto.Summary, ts int64) error {
	st := c.start(v.GetCreatedTimestamp())
	for _, q := range v.GetQuantile() {
		if q == nil {
			continue
		}
		s, err := c.series(req, md, name, model.QuantileLabel, c.formatFloat(q.GetQuantile()))
		if err != nil {
			return err
		}
		c.sample(s, q.GetValue(), ts, st)
	}
	n := c.familyNames(name)
	if err := c.simple(req, md, n.sum, v.GetSampleSum(), ts, st); err != nil {
		return err
	}
	return c.simple(req, md, n.count, float64(v.GetSampleCount()), ts, st)
}

// simple converts one sample of a series without an added label.
func (c *Converter) simple(req *wire.WriteRequest, md *wire.Metadata, name string, v float64, ts, st int64) error {
	s, err := c.series(req, md, name, "", "")
	if err != nil {
		return err
	}
	c.sample(s, v, ts, st)
	return nil
}

func (c *Converter) sample(s *wire.TimeSeries, v float64, ts, st int64) {
	s.Samples = append(s.Samples, wire.Sample{Value: v, Timestamp: ts, StartTimestamp: st})
	c.report.Samples++
}

func (c *Converter) exemplar(s *wire.TimeSeries, e *dto.Exemplar, ts int64) {
	if !c.opts.Exemplars || e == nil {
		return
	}
	// An exemplar's own timestamp is when the event happened and is kept;
	// without one it takes the batch timestamp, as Prometheus gives it the
	// scrape time.
	if e.GetTimestamp() != nil {
		ts = e.GetTimestamp().AsTime().UnixMilli()
	}
	ls := make([]wire.Label, 0, len(e.GetLabel()))
	for _, l := range e.GetLabel() {
		if l.GetValue() != "" {
			ls = append(ls, wire.Label{Name: l.GetName(), Value: l.GetValue()})
		}
	}
	slices.SortFunc(ls, wire.CompareLabels)
	s.Exemplars = append(s.Exemplars, wire.Exemplar{Labels: ls, Value: e.GetValue(), Timestamp: ts})
	c.report.Exemplars++
}

// start returns a created timestamp in milliseconds when StartTimestamps is
// on, else 0 (unset).
func (c *Converter) start(ct interface {
	GetSeconds() int64
	GetNanos() int32
}) int64 {
	if !c.opts.StartTimestamps || ct == nil {
		return 0
	}
	return ct.GetSeconds()*1000 + int64(ct.GetNanos())/1e6
}

func (c *Converter) familyNames(name string) *familyNames {
	n, ok := c.names[name]
	if !ok {
		n = &familyNames{bucket: name + "_bucket", sum: name + "_sum", count: name + "_count"}
		c.names[name] = n
	}
	return n
}

// formatFloat formats a bucket bound or quantile as Prometheus 3 stores it
// (labels.FormatOpenMetricsFloat): "0.005", "1.0", "1e+06", "+Inf". Since
// v3 Prometheus normalizes le and quantile to this form for every scrape
// format, so the text exposition's "1" and the protobuf's 1 both become
// "1.0"; using the same form makes a pushed series and a scraped one the
// same series.
func (c *Converter) formatFloat(f float64) string {
	k := math.Float64bits(f)
	if s, ok := c.floats[k]; ok {
		return s
	}
	s := string(appendOpenMetricsFloat(nil, f))
	c.floats[k] = s
	return s
}

func appendOpenMetricsFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, +1):
		return append(dst, "+Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	if !strings.ContainsAny(string(dst[start:]), "e.") {
		dst = append(dst, '.', '0')
	}
	return dst
}

func metricString(name string, m *dto.Metric) string {
	ls := make([]wire.Label, 0, len(m.GetLabel())+1)
	ls = append(ls, wire.Label{Name: model.MetricNameLabel, Value: name})
	for _, l := range m.GetLabel() {
		ls = append(ls, wire.Label{Name: l.GetName(), Value: l.GetValue()})
	}
	return wire.SeriesString(ls)
}
