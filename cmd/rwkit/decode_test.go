package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

func decodeFixture() *wire.WriteRequest {
	return &wire.WriteRequest{
		Series: []wire.TimeSeries{
			{
				Labels:   []wire.Label{{Name: "__name__", Value: "jvm_threads_live_threads"}, {Name: "service", Value: "auth"}},
				Samples:  []wire.Sample{{Value: 21, Timestamp: 1700000000000}},
				Metadata: wire.Metadata{Type: wire.MetricTypeGauge, Help: "Live threads."},
			},
			{
				Labels:  []wire.Label{{Name: "__name__", Value: "up"}, {Name: "path", Value: `C:\tmp "x"`}},
				Samples: []wire.Sample{{Value: math.Inf(1), Timestamp: 1700000000000}, {Value: math.Float64frombits(wire.StaleNaN), Timestamp: 1700000015000}},
			},
			{
				Labels: []wire.Label{{Name: "__name__", Value: "latency_seconds"}},
				Histograms: []wire.Histogram{{
					CountInt: 3, Sum: 1.5, Schema: 1, ZeroThreshold: 0.001, ZeroCountInt: 1,
					PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 0},
					Timestamp: 1700000000000,
				}},
				Exemplars: []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 0.7, Timestamp: 1700000000000}},
			},
		},
		Metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "jvm_threads_live_threads", Help: "Live threads."}},
	}
}

const wantDecodeRW1 = `# HELP jvm_threads_live_threads Live threads.
# TYPE jvm_threads_live_threads gauge
jvm_threads_live_threads{service="auth"} 21 1700000000000
up{path="C:\\tmp \"x\""} +Inf 1700000000000
up{path="C:\\tmp \"x\""} StaleNaN 1700000015000
latency_seconds{} {count:3, sum:1.5, schema:1, zero_threshold:0.001, zero_count:1, positive_spans:[{0 2}], positive_deltas:[1 0]} 1700000000000
# exemplar latency_seconds{} {trace_id="abc"} 0.7 1700000000000
`

// writeFile writes b to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecode(t *testing.T) {
	req := decodeFixture()
	rw1 := wire.AppendWriteRequest(nil, req)
	rw2 := wire.AppendRequestV2(nil, req)
	dir := t.TempDir()
	write := func(name string, b []byte) string { return writeFile(t, dir, name, b) }
	for _, tc := range []struct {
		name   string
		body   []byte
		header string
		body2  string // expected output after the header line
	}{
		{"rw1 snappy", wire.Compress(nil, rw1), "# remote write 1.0, snappy", wantDecodeRW1},
		{"rw1 raw", rw1, "# remote write 1.0, raw", wantDecodeRW1},
		// RW 2.0 carries metadata on the series rather than in a list; it
		// prints the same, before the series it describes.
		{"rw2 snappy", wire.Compress(nil, rw2), "# remote write 2.0, snappy", wantDecodeRW1},
		{"rw2 raw", rw2, "# remote write 2.0, raw", wantDecodeRW1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, viaStdin := range []bool{false, true} {
				args := []string{"decode", write("body", tc.body)}
				var stdin *bytes.Reader
				if viaStdin {
					args = []string{"decode", "-"}
					stdin = bytes.NewReader(tc.body)
				}
				var out, stderr string
				var code int
				if stdin != nil {
					out, stderr, code = runCLI(t, nil, stdin, args...)
				} else {
					out, stderr, code = runCLI(t, nil, nil, args...)
				}
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				header, rest, _ := strings.Cut(out, "\n")
				if !strings.HasPrefix(header, tc.header) || !strings.Contains(header, "3 series, 3 samples, 1 histograms, 1 exemplars") {
					t.Errorf("header = %q, want prefix %q and the counts", header, tc.header)
				}
				if diff := cmp.Diff(tc.body2, rest); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, decodeFixture()))
	out, stderr, code := runCLI(t, nil, bytes.NewReader(body), "decode", "--output", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got jsonBody
	if err := unmarshalResult([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Version != "1.0" || !got.Snappy || got.Counts.Series != 3 || got.Series[1].Samples[0][1] != "+Inf" ||
		got.Series[0].Labels["service"] != "auth" {
		t.Errorf("json = %+v", got)
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		args []string
		want string
	}{
		{"not protobuf", []byte("hello, world"), nil, "not a remote-write body"},
		{"snappy bomb", []byte{0x80, 0x80, 0x80, 0x80, 0x04, 0x00}, nil, "not a remote-write body"},
		{"over max bytes", bytes.Repeat([]byte{0}, 100), []string{"--max-bytes", "10"}, "larger than --max-bytes=10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"decode"}, tc.args...), "-")
			_, stderr, code := runCLI(t, nil, bytes.NewReader(tc.body), args...)
			if code != exitFailed || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, tc.want)
			}
		})
	}
}

// fakeStdin is a stdin whose Stat reports mode, as os.Stdin's does.
type fakeStdin struct {
	*bytes.Reader
	mode os.FileMode
}

func (f fakeStdin) Stat() (os.FileInfo, error) { return fakeFileInfo{f.mode}, nil }

type fakeFileInfo struct{ mode os.FileMode }

func (fi fakeFileInfo) Name() string       { return "stdin" }
func (fi fakeFileInfo) Size() int64        { return 0 }
func (fi fakeFileInfo) Mode() os.FileMode  { return fi.mode }
func (fi fakeFileInfo) ModTime() time.Time { return time.Time{} }
func (fi fakeFileInfo) IsDir() bool        { return false }
func (fi fakeFileInfo) Sys() any           { return nil }

// Without FILE, a terminal on stdin gets the usage and exit 2 rather than
// a wait for a body nobody will type; a pipe is read as before, and so is
// an explicit - (the user asked for stdin).
func TestDecodeStdinTerminal(t *testing.T) {
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, decodeFixture()))
	tty := os.ModeDevice | os.ModeCharDevice | 0o620
	for _, tc := range []struct {
		name   string
		mode   os.FileMode
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"terminal, no FILE", tty, nil, exitUsage, "", []string{"Usage: rwkit decode [FILE|-]", "Example:", "rwkit: decode: no FILE, and stdin is a terminal"}},
		{"terminal, flags but no FILE", tty, []string{"--output", "json"}, exitUsage, "{\n  \"result\": null,", []string{"Usage: rwkit decode", "stdin is a terminal"}},
		{"terminal, -", tty, []string{"-"}, exitOK, "# remote write 1.0, snappy", nil},
		{"pipe, no FILE", os.ModeNamedPipe | 0o600, nil, exitOK, "# remote write 1.0, snappy", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := fakeStdin{bytes.NewReader(body), tc.mode}
			out, stderr, code := runCLI(t, nil, stdin, append([]string{"decode"}, tc.args...)...)
			ok := code == tc.code && strings.HasPrefix(out, tc.stdout) && (tc.stdout == "") == (out == "")
			for _, want := range tc.stderr {
				ok = ok && strings.Contains(stderr, want)
			}
			if !ok {
				t.Errorf("exit %d (want %d)\nstdout (want prefix %q):\n%s\nstderr (want %q):\n%s", code, tc.code, tc.stdout, out, tc.stderr, stderr)
			}
		})
	}
}
