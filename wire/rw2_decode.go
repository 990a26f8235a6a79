package wire

import "strconv"

// DecodeRequestV2 decodes an RW 2.0 Request (uncompressed) into req,
// resolving symbol references into Labels and Metadata, and reusing the
// capacity of req's slices. Strings are copied (each symbol once).
//
// Metadata.FamilyName is set to the series' __name__ when the series carries
// any metadata (type, help or unit), since RW 2.0 does not send it.
// req.Metadata is left empty.
//
// A created_timestamp in TimeSeries field 6, sent by Prometheus 3.0 to 3.4
// before start timestamps moved onto samples, is applied to the samples
// and histograms of that series that have no start timestamp.
//
// Errors are *DecodeError values naming the field path and byte offset; a
// reference outside the symbol table or an odd number of label references
// names the series and the reference. A Decoder decodes untrusted input
// within limits on its series and memory.
func DecodeRequestV2(data []byte, req *WriteRequest) error {
	return decodeRequestV2(decoder{b: data}, req)
}

// DecodeRequestV2View is DecodeRequestV2 without copying strings: the
// symbols, and so every label and metadata string in req, point into data,
// which must then stay unmodified while req or any string taken from it is
// in use (see DecodeWriteRequestView).
func DecodeRequestV2View(data []byte, req *WriteRequest) error {
	return decodeRequestV2(decoder{b: data, view: true}, req)
}

func decodeRequestV2(d decoder, req *WriteRequest) error {
	data := d.b
	end := len(data)
	// Symbols may follow the series that use them, so read them first.
	nSymbols, nSeries := 0, 0
	if d.lim != nil {
		var err error
		if nSymbols, nSeries, err = d.sizeRequestV2(); err != nil {
			return err
		}
	} else {
		nSymbols = countFields(data, 0, end, fieldReqSymbols)
	}
	symbols := make([]string, 0, nSymbols)
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		if num != fieldReqSymbols {
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
			continue
		}
		idx := len(symbols)
		if err := d.wantType(start, "symbols", wt, wtBytes); err != nil {
			return inField(err, "symbols", idx)
		}
		s, err := d.str(end)
		if err != nil {
			return inField(err, "symbols", idx)
		}
		if idx == 0 && s != "" {
			return inField(decodeErr(start, "the first symbol must be the empty string, got "+strconv.Quote(s)), "symbols", 0)
		}
		symbols = append(symbols, s)
	}
	if len(symbols) == 0 {
		// No symbols at all: ref 0 still means "" (an omitted help_ref).
		symbols = append(symbols, "")
	}

	if d.lim == nil {
		nSeries = countFields(data, 0, end, fieldReqTimeSeries)
	}
	req.Series = reuse(req.Series, nSeries)
	req.Metadata = req.Metadata[:0]
	v2 := decoderV2{decoder: decoder{b: data, view: d.view, lim: d.lim}, symbols: symbols}
	for v2.i < end {
		start := v2.i
		num, wt, err := v2.tag(end)
		if err != nil {
			return err
		}
		if num != fieldReqTimeSeries {
			if err := v2.skip(num, wt, end, 0); err != nil {
				return err
			}
			continue
		}
		e, ts, err := nextElement(&v2.decoder, start, "timeseries", wt, end, &req.Series)
		if err != nil {
			return err
		}
		resetSeries(ts)
		if err := v2.timeSeries(e, ts); err != nil {
			return inField(err, "timeseries", len(req.Series)-1)
		}
	}
	return nil
}

type decoderV2 struct {
	decoder
	symbols []string
	refs    []uint32 // scratch for a series' label refs
	exRefs  []uint32 // scratch for an exemplar's label refs
}

// labelsRefs appends a labels_refs field (TimeSeries and Exemplar field 1,
// packed or not) whose tag started at start to *refs. *at keeps where the
// first such field started (-1 before it), the offset resolve's errors
// name.
func (d *decoderV2) labelsRefs(start, wt, end int, refs *[]uint32, at *int) error {
	if *at < 0 {
		*at = start
	}
	if wt != wtVarint && wt != wtBytes {
		return d.wantType(start, "labels_refs", wt, wtBytes)
	}
	if err := d.packedVarints(wt, end, func(v uint64) { *refs = append(*refs, uint32(v)) }); err != nil {
		return inField(err, "labels_refs", -1)
	}
	return nil
}

// resolve turns refs into labels appended to dst; at is the offset of the
// refs field for errors.
func (d *decoderV2) resolve(at int, refs []uint32, dst []Label) ([]Label, error) {
	if len(refs)%2 != 0 {
		return dst, inField(decodeErr(at, "odd number of label references ("+itoa(len(refs))+")"), "labels_refs", -1)
	}
	for i := 0; i < len(refs); i += 2 {
		for j := i; j < i+2; j++ {
			if int64(refs[j]) >= int64(len(d.symbols)) {
				return dst, inField(d.refErr(at, refs[j]), "labels_refs", j)
			}
		}
		dst = append(dst, Label{Name: d.symbols[refs[i]], Value: d.symbols[refs[i+1]]})
	}
	return dst, nil
}

func (d *decoderV2) refErr(at int, ref uint32) error {
	return decodeErr(at, "symbol reference "+itoa(int(ref))+" outside the symbol table of "+itoa(len(d.symbols))+" entries")
}

func (d *decoderV2) symbol(at int, ref uint64, field string) (string, error) {
	if ref >= uint64(len(d.symbols)) {
		return "", inField(d.refErr(at, uint32(ref)), field, -1)
	}
	return d.symbols[ref], nil
}

func (d *decoderV2) timeSeries(end int, ts *TimeSeries) error {
	var created int64
	refsAt := -1
	d.refs = d.refs[:0]
	if d.lim != nil {
		if err := d.sizeSeriesV2(end, ts); err != nil {
			return err
		}
	}
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldV2LabelsRefs:
			// Repeated: an unpacked or split field appends.
			if err := d.labelsRefs(start, wt, end, &d.refs, &refsAt); err != nil {
				return err
			}
		case fieldV2Samples:
			if err := d.appendSample(start, wt, end, &ts.Samples, true); err != nil {
				return err
			}
		case fieldV2Histograms:
			if err := d.appendHistogram(start, wt, end, &ts.Histograms, true); err != nil {
				return err
			}
		case fieldV2Exemplars:
			e, ex, err := d.nextExemplar(start, wt, end, &ts.Exemplars)
			if err != nil {
				return err
			}
			if err := d.exemplar(e, ex); err != nil {
				return inField(err, "exemplars", len(ts.Exemplars)-1)
			}
		case fieldV2Metadata:
			if err := d.wantType(start, "metadata", wt, wtBytes); err != nil {
				return err
			}
			e, err := d.length(end)
			if err == nil {
				err = d.metadata(e, &ts.Metadata)
			}
			if err != nil {
				return inField(err, "metadata", -1)
			}
		case fieldV2CreatedTimestamp:
			// created_timestamp of Prometheus 3.0-3.4; reserved since.
			if wt != wtVarint {
				if err := d.skip(num, wt, end, 0); err != nil {
					return err
				}
				continue
			}
			v, err := d.varint(end)
			if err != nil {
				return inField(err, "created_timestamp", -1)
			}
			created = int64(v)
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	if len(d.refs) > 0 {
		if cap(ts.Labels) < len(d.refs)/2 {
			ts.Labels = make([]Label, 0, len(d.refs)/2)
		}
		var err error
		if ts.Labels, err = d.resolve(refsAt, d.refs, ts.Labels); err != nil {
			return err
		}
	}
	if md := &ts.Metadata; md.Type != 0 || md.Help != "" || md.Unit != "" {
		for _, l := range ts.Labels {
			if l.Name == MetricNameLabel {
				md.FamilyName = l.Value
				break
			}
		}
	}
	if created != 0 {
		for i := range ts.Samples {
			if ts.Samples[i].StartTimestamp == 0 {
				ts.Samples[i].StartTimestamp = created
			}
		}
		for i := range ts.Histograms {
			if ts.Histograms[i].StartTimestamp == 0 {
				ts.Histograms[i].StartTimestamp = created
			}
		}
	}
	return nil
}

func (d *decoderV2) exemplar(end int, ex *Exemplar) error {
	d.exRefs = d.exRefs[:0]
	refsAt := -1
	if d.lim != nil {
		if err := d.sizeExemplarV2(end, ex); err != nil {
			return err
		}
	}
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		if num == fieldExemplarLabels {
			err = d.labelsRefs(start, wt, end, &d.exRefs, &refsAt)
		} else {
			err = d.exemplarField(num, start, wt, end, ex)
		}
		if err != nil {
			return err
		}
	}
	var err error
	ex.Labels, err = d.resolve(refsAt, d.exRefs, ex.Labels)
	return err
}

func (d *decoderV2) metadata(end int, md *Metadata) error {
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldV2MDType, fieldV2MDHelpRef, fieldV2MDUnitRef:
			name := [...]string{fieldV2MDType: "type", fieldV2MDHelpRef: "help_ref", fieldV2MDUnitRef: "unit_ref"}[num]
			v, err := d.namedVarint(start, name, wt, end)
			if err != nil {
				return err
			}
			switch num {
			case fieldV2MDType:
				md.Type = MetricType(int32(v))
			case fieldV2MDHelpRef:
				md.Help, err = d.symbol(start, uint64(uint32(v)), name)
			case fieldV2MDUnitRef:
				md.Unit, err = d.symbol(start, uint64(uint32(v)), name)
			}
			if err != nil {
				return err
			}
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
