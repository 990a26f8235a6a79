package promtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStartAndQuery(t *testing.T) {
	s := Start(t)
	got, err := s.Query(context.Background(), `vector(42)`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 42 {
		t.Fatalf("vector(42) = %+v, want one element with value 42", got)
	}
}

// TestStartAgent runs an agent that scrapes one target and remote-writes to
// a test endpoint, and stops it gracefully.
func TestStartAgent(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "promtest_agent_probe 1")
	}))
	defer target.Close()
	writes := make(chan string, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case writes <- r.Header.Get("Content-Encoding"):
		default:
		}
	}))
	defer recv.Close()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: probe
    static_configs:
      - targets: [%q]
remote_write:
  - url: %s
    queue_config:
      batch_send_deadline: 200ms
`, strings.TrimPrefix(target.URL, "http://"), recv.URL)
	s := StartAgent(t, cfg)
	select {
	case enc := <-writes:
		if enc != "snappy" {
			t.Errorf("remote write Content-Encoding = %q, want snappy", enc)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no remote write within 20s; log:\n%s", s.Log())
	}
	if err := s.Stop(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background(), time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
