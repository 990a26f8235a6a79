// Package wire encodes and decodes Prometheus remote-write messages, RW 1.0
// (prometheus.WriteRequest) and RW 2.0 (io.prometheus.write.v2.Request), and
// their Snappy block compression.
//
//	var body, compressed []byte // reused between pushes
//	labels := wire.AppendLabels(nil, []wire.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "api"}})
//	body = wire.AppendTimeSeriesLabels(body[:0], labels, &wire.TimeSeries{
//		Samples: []wire.Sample{{Value: 1, Timestamp: 1700000000000}},
//	})
//	compressed = wire.Compress(compressed, body)
//	// POST compressed with Content-Type: wire.V1.ContentType(),
//	// Content-Encoding: wire.ContentEncoding and
//	// wire.HeaderVersion: wire.V1.HeaderValue() (http.go).
//
//	// Receiving:
//	raw, err := wire.Decompress(nil, compressed, 32<<20)
//	if err != nil {
//		return err
//	}
//	var req wire.WriteRequest
//	err = wire.DecodeWriteRequest(raw, &req)
//
// Encoding is append-style, as in VictoriaMetrics' lib/prompb: functions
// append to a caller's buffer and allocate only when it runs out of
// capacity. A series' label bytes never change between pushes, so a pusher
// encodes them once with AppendLabels and reuses the block with
// AppendTimeSeriesLabels. The bytes produced are exactly those of gogo
// protobuf's Marshal of prompb (field order, omitted zero scalars, packed
// repeated scalars); tests hold this against prompb.
//
// RW 2.0 requests are built with an EncoderV2, which owns the symbol table.
//
// Decoders accept any valid protobuf (fields in any order, packed or
// unpacked repeated scalars, unknown fields skipped), never panic, copy the
// strings they return, and report malformed input as a *DecodeError naming
// the field path and byte offset. Decompress refuses blocks that declare
// more than the caller's limit before allocating; a Decoder with MaxSeries
// or MaxMemory refuses, with a *LimitError, a body that would decode into
// more series or memory than its limit, before allocating past it.
//
// The package depends on the standard library and Snappy packages only.
package wire
