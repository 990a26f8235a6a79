package main

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis: fields are counted
	// from its last ')'. utime 250, stime 130 ticks.
	stat := "4242 (my) agent) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 12 0 100 1000000 500 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %s, want %s", got, want)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("parseStatCPU of a short line: no error")
	}
}

func TestParseStatusMemory(t *testing.T) {
	status := "Name:\tvmagent\nVmPeak:\t 900000 kB\nVmHWM:\t   90112 kB\nVmRSS:\t   81920 kB\nThreads:\t9\n"
	rss, hwm, err := parseStatusMemory([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 81920<<10 || hwm != 90112<<10 {
		t.Errorf("rss, hwm = %d, %d; want %d, %d", rss, hwm, 81920<<10, 90112<<10)
	}
	if _, _, err := parseStatusMemory([]byte("Name:\tzombie\n")); err == nil {
		t.Error("status without VmRSS: no error")
	}
}

// TestExposition checks the shape: 200 metric names, 4 labels each,
// every series once, and the second collide writer sharing exactly the
// first half of the names' series.
func TestExposition(t *testing.T) {
	series := func(v variant) map[string]bool {
		var buf bytes.Buffer
		n, err := renderExposition(&buf, 10000, v)
		if err != nil || n != 10000 {
			t.Fatalf("renderExposition = %d, %v; want 10000 series", n, err)
		}
		set := map[string]bool{}
		names := map[string]bool{}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			l := sc.Text()
			if strings.HasPrefix(l, "#") {
				continue
			}
			s, _, _ := strings.Cut(l, " ")
			name, labels, _ := strings.Cut(s, "{")
			names[name] = true
			if got := strings.Count(labels, "="); got != 4 {
				t.Fatalf("%s: %d labels, want 4", s, got)
			}
			if set[s] {
				t.Fatalf("series %s twice", s)
			}
			set[s] = true
		}
		if len(set) != 10000 || len(names) != metricNames {
			t.Fatalf("%d series of %d names, want 10000 of %d", len(set), len(names), metricNames)
		}
		return set
	}
	a, b := series(writerA), series(writerB)
	shared := 0
	for s := range b {
		if a[s] {
			shared++
		}
	}
	if shared != 5000 {
		t.Errorf("writers share %d series, want 5000", shared)
	}
}

func TestCheckDelivery(t *testing.T) {
	ok := agentResult{agent: "a", series: 1000, window: time.Minute, sent: counters{scrapes: 12, requests: 24, bytes: 200000}}
	if err := checkDelivery(ok); err != nil {
		t.Errorf("a working agent: %v", err)
	}
	for name, c := range map[string]counters{
		"no scrape":    {requests: 24, bytes: 200000},
		"nothing sent": {scrapes: 12},
		"not snappy":   {scrapes: 12, requests: 24, bytes: 200000, notSnappy: 24},
		"too little":   {scrapes: 12, requests: 12, bytes: 11999}, // only up and scrape_* series, say
	} {
		r := ok
		r.sent = c
		if err := checkDelivery(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRig checks that the receiver counts only the current run's
// requests, and the target only complete scrapes of it.
func TestRig(t *testing.T) {
	rg := &rig{}
	target, write, stop, err := rg.listen()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rg.begin("run1", []byte("x 1\n"))
	post := func(path, encoding string) {
		req, _ := http.NewRequest("POST", write+path, strings.NewReader("12345"))
		req.Header.Set("Content-Encoding", encoding)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post("/write/run1", "snappy")
	post("/write/run1", "zstd")
	post("/write/run0", "snappy") // an earlier run's agent
	for _, p := range []string{"/metrics/run1", "/metrics/run0"} {
		resp, err := http.Get(target + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := counters{scrapes: 1, requests: 2, bytes: 10, notSnappy: 1}
	if got := rg.snapshot(); got != want {
		t.Errorf("counters = %+v, want %+v", got, want)
	}
	if got := rg.stray.Load(); got != 2 {
		t.Errorf("stray = %d, want 2", got)
	}
}

func TestScrapeConfig(t *testing.T) {
	s := setup{interval: 5 * time.Second, targetURL: "http://127.0.0.1:4000/metrics/tok", writeURL: "http://127.0.0.1:4001/write/tok"}
	got, err := scrapeConfig(s, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scrape_interval: 5s", "scrape_timeout: 5s", "metrics_path: /metrics/tok", `targets: ["127.0.0.1:4000"]`,
		`url: "http://127.0.0.1:4001/write/tok"`} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if got, _ := scrapeConfig(s, false); strings.Contains(got, "remote_write") {
		t.Errorf("vmagent's config has remote_write:\n%s", got)
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("10k,100k,1M,500")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{10000, 100000, 1000000, 500}; !slices.Equal(got, want) {
		t.Errorf("parseSizes = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "10x", "-5", "100"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q): no error", bad)
		}
	}
}

func TestBehind(t *testing.T) {
	vm := agentResult{agent: "vmagent", series: 1000, window: time.Minute, sent: counters{scrapes: 12, requests: 12, bytes: 12 * 1000 * 16}}
	if notes := behind(vm, &vm, 5*time.Second); len(notes) != 0 {
		t.Errorf("vmagent against itself: %q", notes)
	}
	slow := vm
	slow.sent = counters{scrapes: 2, requests: 2, bytes: 1000 * 16} // scraped twice, delivered one scrape
	if notes := behind(slow, &vm, 5*time.Second); len(notes) != 2 {
		t.Errorf("2 of 12 scrapes, half delivered: notes %q, want 2", notes)
	}
}
