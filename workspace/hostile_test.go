package workspace_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile from the generators")

// hostileTS is a fixed sample time for corpus files (they are refused
// before their samples matter, or are about timestamps themselves).
const hostileTS = 1700000000000

// hostileCase is one hostile input: a body (from testdata/hostile/<name>.bin
// when it is small, else generated at test time), how it is sent, and the
// answer it must get.
type hostileCase struct {
	name    string
	live    bool // generated at test time (big, or needs the current time), not kept in testdata
	gen     func() []byte
	headers []string // extra request headers, name then value
	method  string
	status  int
	want    string // fragment of the answer body
	// wantHeader: a header of the answer and its value
	wantHeader []string
}

func raw1(b []byte) []byte { return wire.Compress(nil, b) }

func pb(num uint64, wt int) []byte { return binary.AppendUvarint(nil, num<<3|uint64(wt)) }

func lenField(num uint64, payload []byte) []byte {
	b := pb(num, 2)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func rw1Raw(s ...wire.TimeSeries) []byte {
	return wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: s})
}

func hostileCases() []hostileCase {
	valid := rw1Raw(series(1, hostileTS, "__name__", "up", "job", "j"))
	v2 := []string{"Content-Type", wire.V2.ContentType()}
	return []hostileCase{
		{name: "not-snappy", gen: func() []byte { return []byte("this is plain text, not a snappy block") },
			status: 400, want: "snappy: corrupt input"},
		{name: "empty-body", gen: func() []byte { return nil },
			status: 400, want: "the body is empty"},
		{name: "uncompressed-protobuf", gen: func() []byte { return valid },
			status: 400, want: "looks like uncompressed protobuf"},
		{name: "framed-snappy", gen: func() []byte { return append([]byte("\xff\x06\x00\x00sNaPpY"), 0, 0, 0, 0) },
			status: 400, want: "framed Snappy stream"},
		{name: "gzip", gen: func() []byte {
			var b bytes.Buffer
			z := gzip.NewWriter(&b)
			z.Write(valid)
			z.Close()
			return b.Bytes()
		}, status: 400, want: "it is gzip"},
		{name: "snappy-bomb-3GiB", gen: func() []byte {
			// A block header declaring 3 GiB, then a few literal bytes.
			return append(binary.AppendUvarint(nil, 3<<30), 0x00, 'x')
		}, status: 413, want: "received message larger than max (3221225472 vs"},
		{name: "snappy-bomb-4GiB", gen: func() []byte {
			// Past the 32-bit length a Snappy block can declare.
			return append(binary.AppendUvarint(nil, 4<<30), 0x00, 'x')
		}, status: 400, want: "bad length header"},
		{name: "snappy-bomb-varint-overflow", gen: func() []byte {
			return bytes.Repeat([]byte{0xff}, 12)
		}, status: 400, want: "snappy: corrupt input"},
		{name: "snappy-truncated", gen: func() []byte { b := raw1(valid); return b[:len(b)-3] },
			status: 400, want: "snappy: corrupt input"},
		{name: "truncated-protobuf", gen: func() []byte { return raw1(valid[:len(valid)-5]) },
			status: 400, want: "exceeds the 39 remaining bytes"},
		{name: "wrong-wire-type", gen: func() []byte { return raw1(append(pb(1, 0), 0x01)) },
			status: 400, want: "wire type"},
		{name: "varint-overflow", gen: func() []byte { return raw1(append(pb(1, 2), bytes.Repeat([]byte{0xff}, 11)...)) },
			status: 400, want: "varint overflows 64 bits"},
		{name: "length-past-end", gen: func() []byte { return raw1(append(pb(1, 2), 0xff, 0xff, 0xff, 0x7f)) },
			status: 400, want: "offset"},
		{name: "field-number-zero", gen: func() []byte { return raw1([]byte{0x00, 0x00}) },
			status: 400, want: "invalid field number 0"},
		{name: "invalid-wire-type-7", gen: func() []byte { return raw1([]byte{0x0f}) },
			status: 400, want: "invalid wire type 7"},
		{name: "nested-groups", gen: func() []byte {
			// 1000 nested start-group tags of an unknown field.
			return raw1(bytes.Repeat(pb(9, 3), 1000))
		}, status: 400, want: "offset"},
		{name: "empty-write", gen: func() []byte { return raw1(nil) },
			status: 200},
		{name: "empty-series", gen: func() []byte { return raw1(lenField(1, nil)) },
			status: 400, want: "empty labels found"},
		{name: "empty-labels", gen: func() []byte {
			return raw1(lenField(1, append(lenField(1, nil), lenField(2, []byte{0x09, 0, 0, 0, 0, 0, 0, 0, 0})...)))
		}, status: 400, want: "sample missing metric name"},
		{name: "invalid-utf8-label-value", live: true, gen: func() []byte {
			return raw1(rw1Raw(series(1, nowMs(), "__name__", "up", "job", "\xff\xfe")))
		}, status: 200}, // as Cortex (internal/difftest invalid-utf8-label-value); the prometheus profile refuses it
		{name: "invalid-utf8-metric-name", gen: func() []byte {
			return raw1(rw1Raw(series(1, hostileTS, "__name__", "up\xc0")))
		}, status: 400, want: "invalid metric name"},
		{name: "timestamp-max-int64", gen: func() []byte {
			return raw1(rw1Raw(series(1, math.MaxInt64, "__name__", "up")))
		}, status: 400, want: "timestamp too new: 9223372036854775807"},
		{name: "timestamp-min-int64", gen: func() []byte {
			return raw1(rw1Raw(series(1, math.MinInt64, "__name__", "up")))
		}, status: 400, want: "too old"},
		{name: "rw2-symbol-ref-out-of-range", gen: func() []byte {
			ts := lenField(1, []byte{0x00, 0x01, 0x7f, 0x7f})
			return raw1(append(append(lenField(4, nil), lenField(4, []byte("__name__"))...), lenField(5, ts)...))
		}, headers: v2, status: 400, want: "symbol reference 127 outside the symbol table of 2 entries"},
		{name: "rw2-first-symbol-not-empty", gen: func() []byte {
			return raw1(lenField(4, []byte("x")))
		}, headers: v2, status: 400, want: "the first symbol must be the empty string"},
		{name: "rw2-odd-label-refs", gen: func() []byte {
			ts := lenField(1, []byte{0x01})
			return raw1(append(append(lenField(4, nil), lenField(4, []byte("__name__"))...), lenField(5, ts)...))
		}, headers: v2, status: 400, want: "labels_refs"},
		// RW 1.0's field 1 is unknown to RW 2.0 and skipped, as protobuf
		// says: an empty write, with Samples-Written 0 for the client to see.
		{name: "rw1-body-as-rw2", gen: func() []byte { return raw1(valid) },
			headers: v2, status: 204, wantHeader: []string{"X-Prometheus-Remote-Write-Samples-Written", "0"}},
		{name: "bad-content-type", gen: func() []byte { return raw1(valid) },
			headers: []string{"Content-Type", "text/plain"}, status: 415, want: "expected application/x-protobuf"},
		{name: "bad-content-encoding", gen: func() []byte { return raw1(valid) },
			headers: []string{"Content-Encoding", "zstd"}, status: 415, want: "only snappy is acceptable"},
		{name: "bad-tenant", gen: func() []byte { return raw1(valid) },
			headers: []string{"X-Scope-OrgID", "../../etc"}, status: 400, want: "rwkit: name the workspace"},
		{name: "get-on-write", gen: func() []byte { return nil }, method: http.MethodGet,
			status: 405, want: "remote write takes POST"},

		// Generated at test time: too big to keep, or cheap to rebuild.
		{name: "1M-labels-in-one-series", live: true, gen: func() []byte {
			ls := []string{"__name__", "up"}
			for i := 0; i < 1_000_000; i++ {
				ls = append(ls, fmt.Sprintf("l%07d", i), "v")
			}
			return raw1(rw1Raw(series(1, hostileTS, ls...)))
		}, status: 400, want: "series has too many labels (actual: 1000001, limit: 70)"},
		{name: "10MB-label-value", live: true, gen: func() []byte {
			return raw1(rw1Raw(series(1, hostileTS, "__name__", "up", "v", strings.Repeat("x", 10<<20))))
		}, status: 400, want: "label value too long for metric (actual: 10485760, limit: 2048)"},
		{name: "300k-empty-series", live: true, gen: func() []byte {
			return raw1(bytes.Repeat(lenField(1, nil), 300_000))
		}, status: 413, want: "more than 262144 series"},
		{name: "2M-histograms-in-one-series", live: true, gen: func() []byte {
			// 2 bytes each on the wire, 256 bytes each decoded.
			return raw1(lenField(1, bytes.Repeat(lenField(4, nil), 2_000_000)))
		}, status: 413, want: "decodes to more than"},
		{name: "content-length-200MiB", live: true, gen: func() []byte { return nil },
			headers: []string{"Content-Length", "209715200"}, status: 413, want: "received message larger than max (209715200 vs"},
	}
}

// TestHostileCorpus sends every hostile input to a workspace with the
// default limits: each gets its 4xx and text, and a normal write right
// after it succeeds. Run with -update to rewrite testdata/hostile.
func TestHostileCorpus(t *testing.T) {
	e := newEnv(t, "amp")
	// Open both tenants first: each is a TSDB with goroutines of its own.
	e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "warmup")), "X-Scope-OrgID", "hostile")
	e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "warmup")))
	e.srv.Client().CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	startG := runtime.NumGoroutine()
	dir := filepath.Join("testdata", "hostile")
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "2M-histograms") && strconv.IntSize != 64 {
				t.Skip("a histogram takes less memory on 32-bit platforms: 2M of them fit the decoded-memory limit")
			}
			body := tc.gen()
			file := filepath.Join(dir, tc.name+".bin")
			if !tc.live {
				if *update {
					if err := os.WriteFile(file, body, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test ./workspace -run TestHostileCorpus -update)", err)
				}
				if len(b) > 4<<10 {
					t.Fatalf("%s is %d bytes: keep corpus files small, generate big ones at test time", file, len(b))
				}
				body = b
			}
			r := e.hostile(t, tc, body)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Errorf("got %d %.400q, want %d containing %q", r.status, r.body, tc.status, tc.want)
			}
			if h := tc.wantHeader; h != nil && r.header.Get(h[0]) != h[1] {
				t.Errorf("%s = %q, want %q", h[0], r.header.Get(h[0]), h[1])
			}
			if len(r.body) > 8<<10 {
				t.Errorf("answer is %d bytes: refusals must not echo the input", len(r.body))
			}
			if ok := e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "after_"+strings.ReplaceAll(tc.name, "-", "_")))); ok.status != http.StatusOK {
				t.Fatalf("normal push after %s: %d %s", tc.name, ok.status, ok.body)
			}
		})
	}
	// Connections of the test client may linger; the workspace keeps no
	// goroutine per request.
	e.srv.CloseClientConnections()
	e.srv.Client().CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > startG+5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > startG+5 {
		t.Errorf("goroutines: %d after the corpus, %d before", n, startG)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after the corpus: %d MiB", ms.HeapInuse>>20)
	if ms.HeapInuse > 512<<20 {
		t.Errorf("heap in use after the corpus: %d MiB", ms.HeapInuse>>20)
	}
}

func (e *env) hostile(t *testing.T, tc hostileCase, body []byte) response {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, e.srv.URL+"/api/v1/push", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Scope-OrgID", "hostile")
	for i := 0; i+1 < len(tc.headers); i += 2 {
		if tc.headers[i] == "Content-Length" {
			// A declared length with no body to match: sent raw below.
			return e.rawPost(t, "/api/v1/push", tc.headers[i+1])
		}
		req.Header.Set(tc.headers[i], tc.headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return answer(resp)
}

// TestHostileMemoryBounded: 100 MiB of empty series (5 MiB of Snappy)
// would decode to 7.5 GB of wire.TimeSeries; the decoder refuses it (it
// counts the series before allocating for them) having allocated little
// more than the decompressed body. Likewise for 2M empty histograms in one
// series, RW 1.0 and RW 2.0 (512 MB decoded, over the 400 MiB limit): the
// decoder sizes a series' histograms before allocating them.
func TestHostileMemoryBounded(t *testing.T) {
	e := newEnv(t, "amp")
	v2Symbols := append(lenField(4, nil), lenField(4, []byte("__name__"))...)
	for _, c := range []struct {
		name      string
		body      []byte
		headers   []string
		want      string
		maxAllocs uint64
	}{
		{"100MiB-empty-series", wire.Compress(nil, bytes.Repeat(lenField(1, nil), 50<<20)), nil, "series", 400 << 20},
		{"2M-histograms-in-one-series", wire.Compress(nil, lenField(1, bytes.Repeat(lenField(4, nil), 2_000_000))), nil, "decodes to more than", 64 << 20},
		{"rw2-2M-histograms-in-one-series", wire.Compress(nil, append(v2Symbols, lenField(5, append([]byte{0x0a, 0x02, 0x01, 0x01}, bytes.Repeat(lenField(3, nil), 2_000_000)...))...)),
			[]string{"Content-Type", wire.V2.ContentType()}, "decodes to more than", 64 << 20},
		{"rw2-300k-empty-series", wire.Compress(nil, append(v2Symbols, bytes.Repeat(lenField(5, nil), 300_000)...)),
			[]string{"Content-Type", wire.V2.ContentType()}, "more than 262144 series", 64 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.name, "2M-histograms") && strconv.IntSize != 64 {
				t.Skip("a histogram takes less memory on 32-bit platforms: 2M of them fit the decoded-memory limit")
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := e.push(t, "/api/v1/write", c.body, c.headers...)
			runtime.ReadMemStats(&after)
			if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, c.want) {
				t.Fatalf("got %d %q, want 413 containing %q", r.status, r.body, c.want)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("compressed %d KiB, allocated %d MiB answering it", len(c.body)>>10, alloc>>20)
			if alloc > c.maxAllocs {
				t.Errorf("allocated %d MiB for a refused write", alloc>>20)
			}
		})
	}
	_ = workspace.DefaultMaxSeriesPerRequest
}

// rawPost sends a POST that declares length bytes and sends none, as a
// client lying about its body would, and reads the answer.
func (e *env) rawPost(t *testing.T, path, length string) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nX-Scope-OrgID: hostile\r\nContent-Length: %s\r\n\r\n", path, length)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return answer(resp)
}
