package wire_test

import (
	"fmt"

	"github.com/rwkit/rwkit/wire"
)

// A pusher encodes each series' labels once and reuses both buffers.
func Example() {
	var body, compressed []byte // reused between pushes
	labels := wire.AppendLabels(nil, []wire.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "api"}})
	for push := 0; push < 2; push++ {
		body = wire.AppendTimeSeriesLabels(body[:0], labels, &wire.TimeSeries{
			Samples: []wire.Sample{{Value: 1, Timestamp: 1700000000000 + int64(push)*15000}},
		})
		compressed = wire.Compress(compressed, body)
	}
	fmt.Println(wire.V1.ContentType(), wire.V1.HeaderValue())

	// The receiving side.
	raw, err := wire.Decompress(nil, compressed, 32<<20)
	if err != nil {
		fmt.Println(err)
		return
	}
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(raw, &req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Series[0].Labels, req.Series[0].Samples)
	// Output:
	// application/x-protobuf 0.1.0
	// [{__name__ up} {job api}] [{1 1700000015000 0}]
}

func ExampleEncoderV2() {
	var e wire.EncoderV2
	e.Reset()
	e.AppendSeries(&wire.TimeSeries{
		Labels:   []wire.Label{{Name: "__name__", Value: "requests_total"}, {Name: "service", Value: "auth"}},
		Samples:  []wire.Sample{{Value: 42, Timestamp: 1700000000000, StartTimestamp: 1690000000000}},
		Metadata: wire.Metadata{Type: wire.MetricTypeCounter, Help: "Requests served."},
	})
	body := e.AppendRequest(nil)
	fmt.Println(len(body) == e.Len(), e.NumSeries())

	var req wire.WriteRequest
	if err := wire.DecodeRequestV2(body, &req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", req.Series[0].Metadata)
	// Output:
	// true 1
	// {Type:counter FamilyName:requests_total Help:Requests served. Unit:}
}

func ExampleDecompress() {
	// A body declaring 1 GiB is refused before anything is allocated.
	_, err := wire.Decompress(nil, []byte{0x80, 0x80, 0x80, 0x80, 0x04}, 32<<20)
	fmt.Println(err)
	// Output:
	// snappy block declares 1073741824 decoded bytes, over the limit of 33554432
}
