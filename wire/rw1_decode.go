package wire

// RW 1.0 decoding of prometheus.WriteRequest. Fields may come in any order,
// repeated scalars may be packed or not, and unknown fields are skipped by
// wire type, as protobuf requires of every parser.

// DecodeWriteRequest decodes an RW 1.0 WriteRequest (uncompressed) into req,
// reusing the capacity of req's slices. Strings are copied, so req stays
// valid after data is reused. Errors are *DecodeError values naming the
// field path and byte offset, e.g.
// "timeseries[3].labels[1]: truncated varint at offset 812". A Decoder
// decodes untrusted input within limits on its series and memory.
func DecodeWriteRequest(data []byte, req *WriteRequest) error {
	return decodeWriteRequest(decoder{b: data}, req)
}

// DecodeWriteRequestView is DecodeWriteRequest without copying strings:
// every label name and value and metadata text in req points into data,
// which must then stay unmodified while req or any string taken from it is
// in use. It saves an allocation per string, for a receiver that decodes
// into a pooled buffer and copies the few strings it keeps (a TSDB copies
// the labels of new series only). Anything that keeps strings, such as a
// remotewrite.Client with WithLabelCache, must be given clones.
func DecodeWriteRequestView(data []byte, req *WriteRequest) error {
	return decodeWriteRequest(decoder{b: data, view: true}, req)
}

func decodeWriteRequest(d decoder, req *WriteRequest) error {
	data := d.b
	end := len(data)
	if d.lim != nil {
		if err := d.sizeRequestV1(req); err != nil {
			return err
		}
	} else {
		req.Series = reuse(req.Series, countFields(data, 0, end, fieldWRTimeSeries))
		req.Metadata = req.Metadata[:0]
	}
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldWRTimeSeries:
			e, ts, err := nextElement(&d, start, "timeseries", wt, end, &req.Series)
			if err != nil {
				return err
			}
			resetSeries(ts)
			if err := d.timeSeriesV1(e, ts); err != nil {
				return inField(err, "timeseries", len(req.Series)-1)
			}
		case fieldWRMetadata:
			idx := len(req.Metadata)
			e, err := d.element(start, "metadata", wt, end, idx)
			if err != nil {
				return err
			}
			var md Metadata
			if err := d.metadataV1(e, &md); err != nil {
				return inField(err, "metadata", idx)
			}
			req.Metadata = append(req.Metadata, md)
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// reuse returns s emptied, with capacity for at least n elements; existing
// elements beyond len stay in the backing array so their own slices can be
// reused by extend.
func reuse[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n)
}

// extend grows s by one element, reusing a previously used element of the
// backing array when there is one (its contents are stale: reset them).
func extend[T any](s []T) ([]T, *T) {
	if len(s) < cap(s) {
		s = s[:len(s)+1]
	} else {
		var zero T
		s = append(s, zero)
	}
	return s, &s[len(s)-1]
}

func resetSeries(ts *TimeSeries) {
	ts.Labels = ts.Labels[:0]
	ts.Samples = ts.Samples[:0]
	ts.Exemplars = ts.Exemplars[:0]
	ts.Histograms = ts.Histograms[:0]
	ts.Metadata = Metadata{}
}

func (d *decoder) timeSeriesV1(end int, ts *TimeSeries) error {
	if d.lim != nil {
		if err := d.sizeSeriesV1(end, ts); err != nil {
			return err
		}
	} else if n := countFields(d.b, d.i, end, fieldTSLabels); n > cap(ts.Labels) {
		ts.Labels = make([]Label, 0, n)
	}
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldTSLabels:
			if err := d.appendLabel(start, wt, end, &ts.Labels); err != nil {
				return err
			}
		case fieldTSSamples:
			if err := d.appendSample(start, wt, end, &ts.Samples, false); err != nil {
				return err
			}
		case fieldTSExemplars:
			e, ex, err := d.nextExemplar(start, wt, end, &ts.Exemplars)
			if err != nil {
				return err
			}
			if err := d.exemplarV1(e, ex); err != nil {
				return inField(err, "exemplars", len(ts.Exemplars)-1)
			}
		case fieldTSHistograms:
			if err := d.appendHistogram(start, wt, end, &ts.Histograms, false); err != nil {
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

// appendLabel decodes a labels element (RW 1.0 TimeSeries and Exemplar
// field 1) whose tag started at start onto dst; errors name the element.
func (d *decoder) appendLabel(start, wt, end int, dst *[]Label) error {
	idx := len(*dst)
	var l Label
	if err := d.labelField(start, wt, end, &l); err != nil {
		return inField(err, "labels", idx)
	}
	*dst = append(*dst, l)
	return nil
}

// labelField decodes one length-delimited Label field whose tag started at
// start.
func (d *decoder) labelField(start, wt, end int, l *Label) error {
	if err := d.wantType(start, "labels", wt, wtBytes); err != nil {
		return err
	}
	e, err := d.length(end)
	if err != nil {
		return err
	}
	for d.i < e {
		start := d.i
		num, wt, err := d.tag(e)
		if err != nil {
			return err
		}
		switch num {
		case fieldLabelName:
			if l.Name, err = d.namedString(start, "name", wt, e); err != nil {
				return err
			}
		case fieldLabelValue:
			if l.Value, err = d.namedString(start, "value", wt, e); err != nil {
				return err
			}
		default:
			if err := d.skip(num, wt, e, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// sample decodes a Sample message; v2 also reads start_timestamp.
func (d *decoder) sample(end int, s *Sample, v2 bool) error {
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch {
		case num == fieldSampleValue:
			if s.Value, err = d.doubleField(start, "value", wt, end); err != nil {
				return err
			}
		case num == fieldSampleTimestamp:
			v, err := d.varintField(start, "timestamp", wt, end)
			if err != nil {
				return err
			}
			s.Timestamp = int64(v)
		case num == fieldSampleStartTimestamp && v2:
			v, err := d.varintField(start, "start_timestamp", wt, end)
			if err != nil {
				return err
			}
			s.StartTimestamp = int64(v)
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *decoder) exemplarV1(end int, ex *Exemplar) error {
	if d.lim != nil {
		if err := d.sizeExemplarV1(end, ex); err != nil {
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
			err = d.appendLabel(start, wt, end, &ex.Labels)
		} else {
			err = d.exemplarField(num, start, wt, end, ex)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// nextExemplar checks the exemplars element whose tag started at start (the
// same field in both versions) and appends a slot for it to dst, emptied
// but keeping a stale element's label capacity; it returns where the
// element ends.
func (d *decoder) nextExemplar(start, wt, end int, dst *[]Exemplar) (int, *Exemplar, error) {
	e, ex, err := nextElement(d, start, "exemplars", wt, end, dst)
	if err != nil {
		return 0, nil, err
	}
	ex.Labels, ex.Value, ex.Timestamp = ex.Labels[:0], 0, 0
	return e, ex, nil
}

// exemplarField decodes an Exemplar field other than its labels: value and
// timestamp are the same in both versions, and unknown fields are skipped.
func (d *decoder) exemplarField(num uint64, start, wt, end int, ex *Exemplar) error {
	switch num {
	case fieldExemplarValue:
		v, err := d.doubleField(start, "value", wt, end)
		if err != nil {
			return err
		}
		ex.Value = v
	case fieldExemplarTimestamp:
		v, err := d.varintField(start, "timestamp", wt, end)
		if err != nil {
			return err
		}
		ex.Timestamp = int64(v)
	default:
		return d.skip(num, wt, end, 0)
	}
	return nil
}

func (d *decoder) metadataV1(end int, md *Metadata) error {
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldMDType:
			v, err := d.varintField(start, "type", wt, end)
			if err != nil {
				return err
			}
			md.Type = MetricType(int32(v))
		case fieldMDFamily, fieldMDHelp, fieldMDUnit:
			name := [...]string{fieldMDFamily: "metric_family_name", fieldMDHelp: "help", fieldMDUnit: "unit"}[num]
			s, err := d.namedString(start, name, wt, end)
			if err != nil {
				return err
			}
			switch num {
			case fieldMDFamily:
				md.FamilyName = s
			case fieldMDHelp:
				md.Help = s
			case fieldMDUnit:
				md.Unit = s
			}
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
