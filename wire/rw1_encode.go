package wire

// RW 1.0 encoding of prometheus.WriteRequest (prompb/remote.proto and
// prompb/types.proto), append-style as in VictoriaMetrics' lib/prompb: every
// function appends to dst and allocates only when dst runs out of capacity.

// Field tags (field number << 3 | wire type) of RW 1.0 messages.
const (
	tagWRTimeSeries = fieldWRTimeSeries<<3 | wtBytes // WriteRequest.timeseries
	tagWRMetadata   = fieldWRMetadata<<3 | wtBytes   // WriteRequest.metadata

	tagTSLabels     = fieldTSLabels<<3 | wtBytes     // TimeSeries.labels
	tagTSSamples    = fieldTSSamples<<3 | wtBytes    // TimeSeries.samples
	tagTSExemplars  = fieldTSExemplars<<3 | wtBytes  // TimeSeries.exemplars
	tagTSHistograms = fieldTSHistograms<<3 | wtBytes // TimeSeries.histograms

	tagLabelName  = fieldLabelName<<3 | wtBytes
	tagLabelValue = fieldLabelValue<<3 | wtBytes

	tagSampleValue     = fieldSampleValue<<3 | wtFixed64
	tagSampleTimestamp = fieldSampleTimestamp<<3 | wtVarint

	tagExemplarLabels    = fieldExemplarLabels<<3 | wtBytes
	tagExemplarValue     = fieldExemplarValue<<3 | wtFixed64
	tagExemplarTimestamp = fieldExemplarTimestamp<<3 | wtVarint

	tagMDType   = fieldMDType<<3 | wtVarint
	tagMDFamily = fieldMDFamily<<3 | wtBytes
	tagMDHelp   = fieldMDHelp<<3 | wtBytes
	tagMDUnit   = fieldMDUnit<<3 | wtBytes
)

// AppendWriteRequest appends the RW 1.0 encoding of req (a whole
// prometheus.WriteRequest message) to dst. TimeSeries.Metadata and
// StartTimestamp fields have no RW 1.0 encoding and are not sent.
func AppendWriteRequest(dst []byte, req *WriteRequest) []byte {
	for i := range req.Series {
		dst = AppendTimeSeries(dst, &req.Series[i])
	}
	for i := range req.Metadata {
		dst = AppendMetadata(dst, &req.Metadata[i])
	}
	return dst
}

// AppendTimeSeries appends one WriteRequest.timeseries field (tag, length
// and TimeSeries message). A WriteRequest body is the concatenation of these
// followed by the AppendMetadata ones.
func AppendTimeSeries(dst []byte, ts *TimeSeries) []byte {
	n := sizeLabels(ts.Labels) + sizeSeriesData(ts)
	dst = append(dst, tagWRTimeSeries)
	dst = appendVarint(dst, uint64(n))
	dst = AppendLabels(dst, ts.Labels)
	return appendSeriesData(dst, ts)
}

// AppendLabels appends the label block of a series: its repeated
// TimeSeries.labels fields. A series' label bytes do not change between
// pushes, so callers encode them once and pass the block to
// AppendTimeSeriesLabels.
func AppendLabels(dst []byte, labels []Label) []byte {
	return appendLabelFields(dst, tagTSLabels, labels)
}

// AppendLabel appends one label as AppendLabels appends each of its
// labels: AppendLabels(dst, ls) is AppendLabel of each label of ls in turn.
func AppendLabel(dst []byte, name, value string) []byte {
	l := Label{Name: name, Value: value}
	dst = append(dst, tagTSLabels)
	dst = appendVarint(dst, uint64(sizeLabel(&l)))
	if name != "" {
		dst = appendString(dst, tagLabelName, name)
	}
	if value != "" {
		dst = appendString(dst, tagLabelValue, value)
	}
	return dst
}

// LabelsSize is len(AppendLabels(nil, labels)), computed without encoding.
func LabelsSize(labels []Label) int { return sizeLabels(labels) }

// AppendTimeSeriesLabels is AppendTimeSeries with the series' labels taken
// from labelBlock, a block made by AppendLabels; ts.Labels is ignored.
func AppendTimeSeriesLabels(dst []byte, labelBlock []byte, ts *TimeSeries) []byte {
	n := len(labelBlock) + sizeSeriesData(ts)
	dst = append(dst, tagWRTimeSeries)
	dst = appendVarint(dst, uint64(n))
	dst = append(dst, labelBlock...)
	return appendSeriesData(dst, ts)
}

// AppendSampleSeries is AppendTimeSeriesLabels of a series of one sample
// and nothing else (no histograms, no exemplars), s, the bytes the same:
// what a pusher's series is, encoded without walking a TimeSeries.
func AppendSampleSeries(dst []byte, labelBlock []byte, s *Sample) []byte {
	dst = AppendSampleSeriesStart(dst, len(labelBlock), s)
	dst = append(dst, labelBlock...)
	return AppendSampleSeriesEnd(dst, s)
}

// AppendSampleSeriesStart and AppendSampleSeriesEnd write what
// AppendSampleSeries writes with the label block of blockLen bytes
// appended in between by the caller, in pieces if it likes.
func AppendSampleSeriesStart(dst []byte, blockLen int, s *Sample) []byte {
	dst = append(dst, tagWRTimeSeries)
	return appendVarint(dst, uint64(blockLen+2+sampleSize(s)))
}

// AppendSampleSeriesEnd appends the one sample: see AppendSampleSeriesStart.
func AppendSampleSeriesEnd(dst []byte, s *Sample) []byte {
	dst = append(dst, tagTSSamples, byte(sampleSize(s))) // at most 20: a one-byte length
	return appendSampleFields(dst, s, false)
}

// sampleSize is the size of s' Sample message, start timestamp left out.
func sampleSize(s *Sample) int {
	n := 0
	if s.Value != 0 {
		n = 9
	}
	if s.Timestamp != 0 {
		n += 1 + sizeVarint(uint64(s.Timestamp))
	}
	return n
}

// AppendMetadata appends one WriteRequest.metadata field.
func AppendMetadata(dst []byte, md *Metadata) []byte {
	dst = append(dst, tagWRMetadata)
	dst = appendVarint(dst, uint64(sizeMetadataV1(md)))
	if md.Type != 0 {
		dst = append(dst, tagMDType)
		dst = appendVarint(dst, uint64(md.Type))
	}
	if md.FamilyName != "" {
		dst = appendString(dst, tagMDFamily, md.FamilyName)
	}
	if md.Help != "" {
		dst = appendString(dst, tagMDHelp, md.Help)
	}
	if md.Unit != "" {
		dst = appendString(dst, tagMDUnit, md.Unit)
	}
	return dst
}

// TimeSeriesSize is len(AppendTimeSeries(nil, ts)), computed without
// encoding, for splitting requests by bytes.
func TimeSeriesSize(ts *TimeSeries) int {
	return sizeField(sizeLabels(ts.Labels) + sizeSeriesData(ts))
}

// TimeSeriesSizeLabels is len(AppendTimeSeriesLabels(nil, labelBlock, ts))
// for a label block of blockLen bytes.
func TimeSeriesSizeLabels(blockLen int, ts *TimeSeries) int {
	return sizeField(blockLen + sizeSeriesData(ts))
}

func sizeMetadataV1(md *Metadata) int {
	n := 0
	if md.Type != 0 {
		n += 1 + sizeVarint(uint64(md.Type))
	}
	if md.FamilyName != "" {
		n += sizeString(md.FamilyName)
	}
	if md.Help != "" {
		n += sizeString(md.Help)
	}
	if md.Unit != "" {
		n += sizeString(md.Unit)
	}
	return n
}

func sizeLabel(l *Label) int {
	n := 0
	if l.Name != "" {
		n += sizeString(l.Name)
	}
	if l.Value != "" {
		n += sizeString(l.Value)
	}
	return n
}

func sizeLabels(labels []Label) int {
	n := 0
	for i := range labels {
		n += sizeField(sizeLabel(&labels[i]))
	}
	return n
}

func appendLabelFields(dst []byte, tag byte, labels []Label) []byte {
	for i := range labels {
		l := &labels[i]
		dst = append(dst, tag)
		dst = appendVarint(dst, uint64(sizeLabel(l)))
		if l.Name != "" {
			dst = appendString(dst, tagLabelName, l.Name)
		}
		if l.Value != "" {
			dst = appendString(dst, tagLabelValue, l.Value)
		}
	}
	return dst
}

func sizeSampleV1(s *Sample) int {
	n := 0
	if s.Value != 0 {
		n += 9
	}
	if s.Timestamp != 0 {
		n += 1 + sizeVarint(uint64(s.Timestamp))
	}
	return n
}

func sizeExemplarV1(e *Exemplar) int {
	return sizeLabels(e.Labels) + sizeExemplarPoint(e)
}

// sizeExemplarPoint is the size of an exemplar's value and timestamp
// fields, the same in both versions.
func sizeExemplarPoint(e *Exemplar) int {
	n := 0
	if e.Value != 0 {
		n += 9
	}
	if e.Timestamp != 0 {
		n += 1 + sizeVarint(uint64(e.Timestamp))
	}
	return n
}

// appendExemplarPoint appends an exemplar's value and timestamp fields,
// the same in both versions; zero values are omitted, as gogo does.
func appendExemplarPoint(dst []byte, e *Exemplar) []byte {
	if e.Value != 0 {
		dst = append(dst, tagExemplarValue)
		dst = appendFixed64(dst, e.Value)
	}
	if e.Timestamp != 0 {
		dst = append(dst, tagExemplarTimestamp)
		dst = appendVarint(dst, uint64(e.Timestamp))
	}
	return dst
}

// sizeSeriesData is the size of everything in an RW 1.0 TimeSeries but its
// labels.
func sizeSeriesData(ts *TimeSeries) int {
	n := 0
	for i := range ts.Samples {
		n += sizeField(sizeSampleV1(&ts.Samples[i]))
	}
	for i := range ts.Exemplars {
		n += sizeField(sizeExemplarV1(&ts.Exemplars[i]))
	}
	for i := range ts.Histograms {
		n += sizeField(sizeHistogram(&ts.Histograms[i], false))
	}
	return n
}

func appendSeriesData(dst []byte, ts *TimeSeries) []byte {
	for i := range ts.Samples {
		s := &ts.Samples[i]
		dst = append(dst, tagTSSamples)
		dst = appendVarint(dst, uint64(sizeSampleV1(s)))
		dst = appendSampleFields(dst, s, false)
	}
	for i := range ts.Exemplars {
		e := &ts.Exemplars[i]
		dst = append(dst, tagTSExemplars)
		dst = appendVarint(dst, uint64(sizeExemplarV1(e)))
		dst = appendLabelFields(dst, tagExemplarLabels, e.Labels)
		dst = appendExemplarPoint(dst, e)
	}
	for i := range ts.Histograms {
		h := &ts.Histograms[i]
		dst = append(dst, tagTSHistograms)
		dst = appendVarint(dst, uint64(sizeHistogram(h, false)))
		dst = appendHistogram(dst, h, false)
	}
	return dst
}

// appendSampleFields appends the fields of one Sample message, as gogo
// does: zero values left out, start_timestamp only in RW 2.0.
func appendSampleFields(dst []byte, s *Sample, v2 bool) []byte {
	if s.Value != 0 {
		dst = append(dst, tagSampleValue)
		dst = appendFixed64(dst, s.Value)
	}
	if s.Timestamp != 0 {
		dst = append(dst, tagSampleTimestamp)
		dst = appendVarint(dst, uint64(s.Timestamp))
	}
	if v2 && s.StartTimestamp != 0 {
		dst = append(dst, tagV2SampleStart)
		dst = appendVarint(dst, uint64(s.StartTimestamp))
	}
	return dst
}
