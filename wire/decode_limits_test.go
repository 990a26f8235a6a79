package wire

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodedSizes pins the per-element sizes the memory limit counts (on
// 64-bit platforms; they are unsafe.Sizeof of the decoded types), so that a
// change to the types shows here and in the numbers the docs quote (an
// empty series is 152 bytes decoded, an empty histogram 256).
func TestDecodedSizes(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("sizes are for 64-bit platforms")
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"TimeSeries", memSeries, 152},
		{"Label", memLabel, 32},
		{"Sample", memSample, 24},
		{"Exemplar", memExemplar, 40},
		{"Histogram", memHistogram, 256},
		{"BucketSpan", memSpan, 8},
		{"bucket", memBucket, 8},
		{"Metadata", memMetadata, 56},
		{"symbol", memSymbol, 16},
		{"reference", memRef, 4},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, c.got, c.want)
		}
	}
}

// decodedMemory is the memory model of Decoder.MaxMemory computed from a
// decoded request (and, for RW 2.0, its symbol table in data): an
// independent check of what the decoder counts. It is exact for input
// without repeated string fields (a copied string set twice is counted
// twice by the decoder), e.g. our own encoding.
func decodedMemory(t testing.TB, data []byte, req *WriteRequest, v2, view bool) int64 {
	t.Helper()
	n := int64(len(req.Series))*memSeries + int64(len(req.Metadata))*memMetadata
	strs := func(ss ...string) {
		if view {
			return
		}
		for _, s := range ss {
			n += int64(len(s))
		}
	}
	maxRefs, maxExRefs := 0, 0
	for i := range req.Series {
		ts := &req.Series[i]
		n += int64(len(ts.Labels))*memLabel + int64(len(ts.Samples))*memSample +
			int64(len(ts.Exemplars))*memExemplar + int64(len(ts.Histograms))*memHistogram
		maxRefs = max(maxRefs, 2*len(ts.Labels))
		if !v2 {
			for _, l := range ts.Labels {
				strs(l.Name, l.Value)
			}
		}
		for _, ex := range ts.Exemplars {
			n += int64(len(ex.Labels)) * memLabel
			maxExRefs = max(maxExRefs, 2*len(ex.Labels))
			if !v2 {
				for _, l := range ex.Labels {
					strs(l.Name, l.Value)
				}
			}
		}
		for _, h := range ts.Histograms {
			n += int64(len(h.NegativeSpans)+len(h.PositiveSpans))*memSpan +
				int64(len(h.NegativeDeltas)+len(h.NegativeCounts)+len(h.PositiveDeltas)+len(h.PositiveCounts)+len(h.CustomValues))*memBucket
		}
	}
	for _, md := range req.Metadata {
		strs(md.FamilyName, md.Help, md.Unit)
	}
	if v2 {
		n += int64(maxRefs+maxExRefs) * memRef
		d := decoder{b: data}
		symbols := 0
		for d.i < len(data) {
			num, wt, err := d.tag(len(data))
			if err != nil {
				t.Fatalf("symbols of a decoded request: %v", err)
			}
			if num == 4 && wt == wtBytes {
				s, _ := d.str(len(data))
				strs(s)
				symbols++
			} else if err := d.skip(num, wt, len(data), 0); err != nil {
				t.Fatalf("symbols of a decoded request: %v", err)
			}
		}
		n += int64(max(symbols, 1)) * memSymbol
	}
	return n
}

// measure decodes data with limits too high to pass and returns the
// memory and series the decoder counted.
func measure(data []byte, v2, view bool, req *WriteRequest) (int64, int, error) {
	l := &limiter{maxSeries: math.MaxInt, maxMemory: math.MaxInt64}
	d := decoder{b: data, view: view, lim: l}
	var err error
	if v2 {
		err = decodeRequestV2(d, req)
	} else {
		err = decodeWriteRequest(d, req)
	}
	series := len(req.Series)
	if !v2 {
		series += len(req.Metadata)
	}
	return l.memory, series, err
}

func decodeWith(o Decoder, data []byte, v2 bool, req *WriteRequest) error {
	if v2 {
		return o.DecodeRequestV2(data, req)
	}
	return o.DecodeWriteRequest(data, req)
}

func decodeUnlimited(data []byte, v2, view bool, req *WriteRequest) error {
	return decodeWith(Decoder{View: view}, data, v2, req)
}

// checkLimits checks that decoding data (valid) passes exactly at its
// memory and series and fails one under each with the *LimitError naming
// the limit, and that the decoder counts what decodedMemory computes
// (exact: exact is false for input with repeated string fields, where it
// is a lower bound).
func checkLimits(t *testing.T, data []byte, v2, view, exact bool) {
	t.Helper()
	var want WriteRequest
	if err := decodeUnlimited(data, v2, view, &want); err != nil {
		t.Fatalf("unlimited decode: %v", err)
	}
	var got WriteRequest
	mem, series, err := measure(data, v2, view, &got)
	if err != nil {
		t.Fatalf("measuring decode: %v", err)
	}
	if model := decodedMemory(t, data, &want, v2, view); mem != model && (exact || mem < model) {
		t.Fatalf("decoder counted %d bytes, the model %d", mem, model)
	}
	for _, c := range []struct {
		limits Decoder
		over   string // the limit that must be passed, or "" for none
	}{
		{Decoder{MaxMemory: mem}, ""},
		{Decoder{MaxMemory: mem - 1}, LimitMemory},
		{Decoder{MaxMemory: mem / 2}, LimitMemory},
		{Decoder{MaxSeries: series}, ""},
		{Decoder{MaxSeries: series - 1}, LimitSeries},
		{Decoder{MaxSeries: series, MaxMemory: mem}, ""},
		{Decoder{MaxSeries: series - 1, MaxMemory: mem - 1}, LimitSeries}, // series are counted first
	} {
		o := c.limits
		o.View = view
		if (o.MaxMemory <= 0 && o.MaxSeries <= 0) || (c.over == LimitSeries && o.MaxSeries <= 0) || (c.over == LimitMemory && o.MaxMemory <= 0) {
			continue // no limit to pass
		}
		var req WriteRequest
		err := decodeWith(o, data, v2, &req)
		if c.over == "" {
			if err != nil {
				t.Fatalf("%+v: %v, want no error (memory %d, series %d)", o, err, mem, series)
			}
			if diff := cmp.Diff(&want, &req, cmpOpts); diff != "" {
				t.Fatalf("%+v: decoded differently (-unlimited +limited):\n%s", o, diff)
			}
			continue
		}
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != c.over {
			t.Fatalf("%+v: %v, want a *LimitError of the %s limit (memory %d, series %d)", o, err, c.over, mem, series)
		}
		switch {
		case le.Limit == LimitMemory && (le.Max != o.MaxMemory || le.Value <= le.Max || le.Value > mem):
			t.Fatalf("%+v: %v: Max %d Value %d, want Max %d and Value in (Max, %d]", o, err, le.Max, le.Value, o.MaxMemory, mem)
		case le.Limit == LimitSeries && (le.Max != int64(o.MaxSeries) || le.Value != le.Max+1):
			t.Fatalf("%+v: %v: Max %d Value %d", o, err, le.Max, le.Value)
		}
		if le.Offset < 0 || le.Offset > len(data) {
			t.Fatalf("%+v: offset %d outside the %d bytes", o, le.Offset, len(data))
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	rich := richRequest()
	hist := func(i int) Histogram {
		return Histogram{
			CountInt: uint64(i), Schema: 1,
			NegativeSpans: []BucketSpan{{Offset: -1, Length: 2}}, NegativeDeltas: []int64{1, 2},
			PositiveSpans: []BucketSpan{{Length: 1}, {Offset: 2, Length: 3}}, PositiveDeltas: []int64{1, -1, 0, 5},
			Timestamp: int64(i),
		}
	}
	floatHist := Histogram{IsFloat: true, CountFloat: 3, Schema: -53, PositiveSpans: []BucketSpan{{Length: 3}},
		PositiveCounts: []float64{1, 1, 1}, CustomValues: []float64{0.5, 1, 2}}
	ex := func(i int) Exemplar {
		return Exemplar{Labels: []Label{{"trace_id", strconv.Itoa(i)}, {"span_id", "s"}}, Value: float64(i), Timestamp: int64(i)}
	}
	many := &WriteRequest{}
	for i := range 40 {
		many.Series = append(many.Series, TimeSeries{
			Labels:  []Label{{"__name__", "m"}, {"i", strconv.Itoa(i)}},
			Samples: []Sample{{Value: 1, Timestamp: int64(i)}, {Value: 2, Timestamp: int64(i) + 1}},
		})
	}
	reqs := []struct {
		name string
		req  *WriteRequest
	}{
		{"rich", rich},
		{"series", many},
		{"metadata", &WriteRequest{
			Series: many.Series[:2],
			Metadata: []Metadata{
				{Type: MetricTypeCounter, FamilyName: "m", Help: "help text", Unit: "seconds"},
				{Type: MetricTypeGauge, FamilyName: "g"},
				{FamilyName: "x", Help: "y"},
			},
		}},
		{"histograms", &WriteRequest{Series: []TimeSeries{
			{Labels: []Label{{"__name__", "h"}}, Histograms: []Histogram{hist(1), hist(2), floatHist, {}}},
			{Labels: []Label{{"__name__", "h2"}, {"a", "b"}}, Histograms: []Histogram{hist(3)}},
		}}},
		{"exemplars", &WriteRequest{Series: []TimeSeries{
			{Labels: []Label{{"__name__", "e"}}, Samples: []Sample{{Value: 1}}, Exemplars: []Exemplar{ex(1), ex(2), {Value: 3}}},
			{Labels: []Label{{"__name__", "e2"}}, Exemplars: []Exemplar{ex(3)}},
		}}},
		{"empty series", &WriteRequest{Series: make([]TimeSeries, 7)}},
		{"series metadata", &WriteRequest{Series: []TimeSeries{
			{Labels: []Label{{"__name__", "c"}}, Samples: []Sample{{Value: 1}}, Metadata: Metadata{Type: MetricTypeCounter, Help: "h", Unit: "u"}},
		}}},
	}
	for _, r := range reqs {
		for _, v2 := range []bool{false, true} {
			var data []byte
			if v2 {
				data = AppendRequestV2(nil, forV2(r.req))
			} else {
				data = AppendWriteRequest(nil, forV1(r.req))
			}
			for _, view := range []bool{false, true} {
				name := r.name + "/v1"
				if v2 {
					name = r.name + "/v2"
				}
				if view {
					name += "/view"
				}
				t.Run(name, func(t *testing.T) { checkLimits(t, data, v2, view, true) })
			}
		}
	}
	// Non-canonical input: unknown fields, unpacked repeated scalars and
	// split reference fields are counted as they decode.
	t.Run("non-canonical/v1", func(t *testing.T) {
		h := pb{}.unknown().varint(9, 3).varint(9, 4).bytes(9, []byte{1, 2}).double(13, 1).bytes(8, nil).double(16, 2)
		ts := pb{}.unknown().bytes(4, h).bytes(1, pb{}.str(1, "a").str(2, "b")).bytes(2, nil).bytes(3, pb{}.bytes(1, pb{}.str(2, "v"))).bytes(4, nil)
		data := pb{}.unknown().bytes(1, ts).bytes(3, pb{}.str(4, "help")).bytes(1, nil)
		for _, view := range []bool{false, true} {
			checkLimits(t, data, false, view, true)
		}
	})
	t.Run("non-canonical/v2", func(t *testing.T) {
		ts := pb{}.unknown().varint(1, 1).bytes(2, nil).bytes(1, []byte{2, 1, 2}).bytes(3, pb{}.varint(12, 2).bytes(11, nil)).
			bytes(4, pb{}.varint(1, 1).varint(1, 2)).bytes(4, nil)
		data := pb{}.bytes(5, ts).str(4, "").unknown().str(4, "a").str(4, "bc").bytes(5, nil)
		for _, view := range []bool{false, true} {
			checkLimits(t, data, true, view, true)
		}
	})
	t.Run("repeated strings", func(t *testing.T) {
		// The label name is set twice: both copies are allocated, and
		// counted.
		data := pb{}.bytes(1, pb{}.bytes(1, pb{}.str(1, "first").str(1, "name").str(2, "v")))
		checkLimits(t, data, false, false, false)
		mem, _, err := measure(data, false, false, new(WriteRequest))
		if want := memSeries + memLabel + int64(len("first")+len("name")+len("v")); err != nil || mem != want {
			t.Fatalf("counted %d (%v), want %d", mem, err, want)
		}
	})
}

// TestDecodeLimitsPinned pins the memory model on small requests, by
// hand: the model test above and the fuzz targets check it against
// decodedMemory.
func TestDecodeLimitsPinned(t *testing.T) {
	req := &WriteRequest{
		Series: []TimeSeries{
			{Labels: []Label{{"__name__", "up"}, {"job", "a"}}, Samples: []Sample{{Value: 1, Timestamp: 5}}},
			{Labels: []Label{{"__name__", "up"}}, Histograms: []Histogram{{CountInt: 1, PositiveSpans: []BucketSpan{{Length: 1}}, PositiveDeltas: []int64{1}}}},
		},
		Metadata: []Metadata{{Type: MetricTypeGauge, FamilyName: "up"}},
	}
	v1 := AppendWriteRequest(nil, req)
	v2 := AppendRequestV2(nil, forV2(req))
	for _, c := range []struct {
		name     string
		data     []byte
		v2, view bool
		want     int64
	}{
		// 2 series, 3 labels, 1 sample, 1 histogram with a span and a
		// delta, 1 metadata entry.
		{"v1/view", v1, false, true, 2*memSeries + 3*memLabel + memSample + memHistogram + memSpan + memBucket + memMetadata},
		// and the strings "__name__" "up" "job" "a" "__name__" "up" "up".
		{"v1/copy", v1, false, false, 2*memSeries + 3*memLabel + memSample + memHistogram + memSpan + memBucket + memMetadata + 8 + 2 + 3 + 1 + 8 + 2 + 2},
		// 5 symbols ("", "__name__", "up", "job", "a"), 2 series, 3
		// labels from at most 4 references, 1 sample, 1 histogram.
		{"v2/view", v2, true, true, 5*memSymbol + 2*memSeries + 3*memLabel + 4*memRef + memSample + memHistogram + memSpan + memBucket},
		{"v2/copy", v2, true, false, 5*memSymbol + 8 + 2 + 3 + 1 + 2*memSeries + 3*memLabel + 4*memRef + memSample + memHistogram + memSpan + memBucket},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem, _, err := measure(c.data, c.v2, c.view, new(WriteRequest))
			if err != nil || mem != c.want {
				t.Fatalf("counted %d bytes (%v), want %d", mem, err, c.want)
			}
			if err := decodeWith(Decoder{View: c.view, MaxMemory: c.want}, c.data, c.v2, new(WriteRequest)); err != nil {
				t.Fatalf("at the limit: %v", err)
			}
			if err := decodeWith(Decoder{View: c.view, MaxMemory: c.want - 1}, c.data, c.v2, new(WriteRequest)); err == nil {
				t.Fatal("one byte under: no error")
			}
		})
	}
}

// TestDecodeLimitErrors checks the error texts, paths and offsets, and
// that the decoder stops before allocating for what is over a limit.
func TestDecodeLimitErrors(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("the byte counts in the texts are for 64-bit platforms")
	}
	emptySeries := bytes.Repeat(pb{}.bytes(1, nil), 300_000)
	for _, c := range []struct {
		name   string
		data   []byte
		v2     bool
		limits Decoder
		want   string
	}{
		{"300k empty series", emptySeries, false, Decoder{MaxSeries: 1 << 18},
			"timeseries[262144]: more than 262144 series (limit 262144) at offset 524288"},
		{"metadata counts as series", pb{}.bytes(1, nil).bytes(3, nil).bytes(3, nil), false, Decoder{MaxSeries: 2},
			"metadata[1]: more than 2 series (limit 2) at offset 4"},
		{"v2 series", pb{}.str(4, "").bytes(5, nil).bytes(5, nil).bytes(5, nil), true, Decoder{MaxSeries: 2},
			"timeseries[2]: more than 2 series (limit 2) at offset 6"},
		{"series table", emptySeries, false, Decoder{MaxMemory: 1 << 20},
			"timeseries: decodes to 45600000 bytes, more than the limit of 1048576 at offset 0"},
		{"2M empty histograms", pb{}.bytes(1, append(pb{}.bytes(1, pb{}.str(1, "a")), bytes.Repeat(pb{}.bytes(4, nil), 2_000_000)...)), false,
			Decoder{MaxMemory: 100 << 20},
			"timeseries[0].histograms: decodes to 512000184 bytes, more than the limit of 104857600 at offset 5"},
		{"histogram buckets", pb{}.bytes(1, pb{}.bytes(4, pb{}.bytes(12, bytes.Repeat([]byte{2}, 1000)))), false, Decoder{MaxMemory: 4096},
			"timeseries[0].histograms[0].positive_deltas: decodes to 8408 bytes, more than the limit of 4096 at offset 6"},
		{"exemplar labels", pb{}.bytes(1, pb{}.bytes(3, bytes.Repeat(pb{}.bytes(1, nil), 1000))), false, Decoder{MaxMemory: 4096},
			"timeseries[0].exemplars[0].labels: decodes to 32192 bytes, more than the limit of 4096 at offset 6"},
		{"a copied string", pb{}.bytes(3, pb{}.str(4, string(make([]byte, 5000)))), false, Decoder{MaxMemory: 4096},
			"metadata[0].help: decodes to 5056 bytes, more than the limit of 4096 at offset 6"},
		{"v2 label references", pb{}.str(4, "").bytes(5, pb{}.bytes(1, make([]byte, 1000))), true, Decoder{MaxMemory: 4096},
			"timeseries[0].labels_refs: decodes to 4168 bytes, more than the limit of 4096 at offset 5"},
		{"v2 exemplar references", pb{}.str(4, "").bytes(5, pb{}.bytes(4, pb{}.bytes(1, make([]byte, 1000)))), true, Decoder{MaxMemory: 4096},
			"timeseries[0].exemplars[0].labels_refs: decodes to 4208 bytes, more than the limit of 4096 at offset 8"},
		{"v2 symbols", bytes.Repeat(pb{}.str(4, ""), 1000), true, Decoder{MaxMemory: 4096},
			"symbols: decodes to 16000 bytes, more than the limit of 4096 at offset 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var req WriteRequest
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := decodeWith(c.limits, c.data, c.v2, &req)
			runtime.ReadMemStats(&after)
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("%v (%T), want a *LimitError", err, err)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), c.want)
			}
			var de *DecodeError
			if errors.As(err, &de) {
				t.Error("a *LimitError is also a *DecodeError")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<10 {
				t.Errorf("allocated %d bytes before refusing", alloc)
			}
		})
	}
}

// TestDecodeMemoryIsAllocation: decoding into an empty WriteRequest
// allocates what the decoder counts (plus the allocator's rounding), and
// the limited decode allocates no more than the unlimited one.
func TestDecodeMemoryIsAllocation(t *testing.T) {
	series := benchSeries(2000)
	for i := range series {
		if i%10 == 0 {
			series[i].Histograms = []Histogram{richRequest().Series[1].Histograms[0]}
			series[i].Exemplars = []Exemplar{{Labels: []Label{{"trace_id", strconv.Itoa(i)}}, Value: 1}}
		}
	}
	in := &WriteRequest{Series: series}
	for _, c := range []struct {
		name     string
		data     []byte
		v2, view bool
	}{
		{"v1/copy", AppendWriteRequest(nil, in), false, false},
		{"v1/view", AppendWriteRequest(nil, in), false, true},
		{"v2/copy", AppendRequestV2(nil, in), true, false},
		{"v2/view", AppendRequestV2(nil, in), true, true},
		{"empty series/view", bytes.Repeat(pb{}.bytes(1, nil), 100_000), false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem, _, err := measure(c.data, c.v2, c.view, new(WriteRequest))
			if err != nil {
				t.Fatal(err)
			}
			allocated := func(o Decoder) int64 {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				var req WriteRequest
				if err := decodeWith(o, c.data, c.v2, &req); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(&req)
				return int64(after.TotalAlloc - before.TotalAlloc)
			}
			limited := allocated(Decoder{View: c.view, MaxMemory: mem})
			unlimited := allocated(Decoder{View: c.view})
			t.Logf("counted %d bytes; the limited decode allocated %d, the unlimited one %d", mem, limited, unlimited)
			if limited < mem || limited > mem+mem/4+4096 {
				t.Errorf("counted %d bytes, allocated %d", mem, limited)
			}
			if limited > unlimited+4096 {
				t.Errorf("the limited decode allocated %d bytes, the unlimited one %d", limited, unlimited)
			}
		})
	}
}

// BenchmarkDecodeLimited is BenchmarkDecode's 10k case with limits (and
// the view decoders, as a receiver uses them).
func BenchmarkDecodeLimited(b *testing.B) {
	series := benchSeries(10000)
	for _, c := range []struct {
		name string
		data []byte
		v2   bool
	}{{"v1", benchBody(10000), false}, {"v2", AppendRequestV2(nil, &WriteRequest{Series: series}), true}} {
		for _, o := range []struct {
			name string
			d    Decoder
		}{
			{"view", Decoder{View: true}},
			{"view-limited", Decoder{View: true, MaxSeries: 1 << 18, MaxMemory: 400 << 20}},
		} {
			b.Run(c.name+"/"+o.name, func(b *testing.B) {
				var req WriteRequest
				if err := decodeWith(o.d, c.data, c.v2, &req); err != nil { // warm req up
					b.Fatal(err)
				}
				b.SetBytes(int64(len(c.data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := decodeWith(o.d, c.data, c.v2, &req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fuzzLimits is the fuzz targets' check of the limited decoders on any
// input: with limits too high to pass they decode (copy and view) exactly
// as the unlimited decoders, errors included; under the memory or series
// the input decodes to they return the *LimitError of that limit, at or
// over it they decode the same; under any limit a malformed input gets
// either a *LimitError or the unlimited decoder's error. exact: data is
// our own encoding, and the counted memory must equal decodedMemory.
func fuzzLimits(t *testing.T, data []byte, v2, exact bool) {
	t.Helper()
	var h uint64 = 14695981039346656037 // FNV-1a: pseudo-random limits
	for _, c := range data {
		h = (h ^ uint64(c)) * 1099511628211
	}
	for _, view := range []bool{false, true} {
		var want WriteRequest
		wantErr := decodeUnlimited(data, v2, view, &want)
		var got WriteRequest
		mem, series, err := measure(data, v2, view, &got)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("view %v: decoding with limits: %v; without: %v", view, err, wantErr)
		}
		if err == nil {
			if diff := cmp.Diff(&want, &got, cmpOpts); diff != "" {
				t.Fatalf("view %v: decoding with limits changed the value (-without +with):\n%s", view, diff)
			}
			if model := decodedMemory(t, data, &want, v2, view); mem < model || (exact && mem != model) {
				t.Fatalf("view %v: the decoder counted %d bytes, the model %d", view, mem, model)
			}
		}
		limits := []Decoder{
			{MaxMemory: mem, MaxSeries: series},
			{MaxMemory: mem - 1},
			{MaxMemory: mem / 2},
			{MaxSeries: series - 1},
			{MaxMemory: int64(h % uint64(mem+2)), MaxSeries: int(h>>32) % (series + 2)},
		}
		for _, o := range limits {
			if o.MaxMemory <= 0 && o.MaxSeries <= 0 {
				continue
			}
			o.View = view
			var req WriteRequest
			err := decodeWith(o, data, v2, &req)
			var le *LimitError
			isLimit := errors.As(err, &le)
			if wantErr != nil {
				if err == nil || (!isLimit && err.Error() != wantErr.Error()) {
					t.Fatalf("%+v: %v, want a *LimitError or %v", o, err, wantErr)
				}
				continue
			}
			overSeries := o.MaxSeries > 0 && series > o.MaxSeries
			overMemory := o.MaxMemory > 0 && mem > o.MaxMemory
			switch {
			case overSeries && (!isLimit || le.Limit != LimitSeries):
				t.Fatalf("%+v: %v, want a *LimitError of the series limit (%d series)", o, err, series)
			case !overSeries && overMemory && (!isLimit || le.Limit != LimitMemory):
				t.Fatalf("%+v: %v, want a *LimitError of the memory limit (%d bytes)", o, err, mem)
			case !overSeries && !overMemory && err != nil:
				t.Fatalf("%+v: %v, want no error (%d bytes, %d series)", o, err, mem, series)
			case err == nil:
				if diff := cmp.Diff(&want, &req, cmpOpts); diff != "" {
					t.Fatalf("%+v: decoded differently (-unlimited +limited):\n%s", o, diff)
				}
			}
		}
	}
}
