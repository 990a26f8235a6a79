package agentdiff

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"text/template"
	"time"
)

// Job is one scrape_configs entry of a Plan.
type Job struct {
	Name            string
	HonorLabels     bool
	HonorTimestamps bool
	Targets         []TargetSpec
	// Extra is more of the job's YAML (sample_limit, metric_relabel_configs
	// ...), indented by 4 spaces.
	Extra string
}

// TargetSpec is a scripted target: its logical name, which becomes its
// target and instance labels, and its script.
type TargetSpec struct {
	Name   string
	Script Script
}

// Plan is what both scrapers are given: the same jobs and scripts, and the
// number of scrapes compared.
type Plan struct {
	Jobs []Job
	// Scrapes is how many scrapes of each target are compared; targets
	// answer 503 after it.
	Scrapes int
	// Base is the origin (ms) of the explicit timestamps in scripts.
	Base int64
	// Global is more of the global section's YAML (external_labels ...),
	// indented by 2 spaces.
	Global string
	// RemoteWrite is the YAML of the remote_write entry's settings after
	// url, indented by 4 spaces (queue_config and the like).
	RemoteWrite string
	// Refusals are the statuses each receiver answers its first requests
	// with (Receiver.RefuseFirst): what is compared must arrive anyway.
	Refusals []int
}

// Scraper is a running scraper: a Prometheus agent, or rwkit's.
type Scraper interface {
	// Stop shuts the scraper down, flushing what it holds.
	Stop(ctx context.Context) error
}

// Side names a scraper and starts it with a prometheus.yml.
type Side struct {
	Name  string
	Start func(t *testing.T, configYAML string) Scraper
	// Edit, if set, changes the rendered prometheus.yml before Start: what
	// a scraper needs beyond the shared file (each edit a known
	// difference). It is given a second receiver (Outcome.Extra) that the
	// edited file may also write to.
	Edit func(t *testing.T, configYAML string, extra *Receiver) string
}

// Outcome is what Run observed of one side.
type Outcome struct {
	Name        string
	Config      string
	Observation Observation
	Receiver    *Receiver
	Targets     map[string]*Target
	// Extra is the second receiver of a Side with Edit, and
	// ExtraObservation what it got.
	Extra            *Receiver
	ExtraObservation Observation
}

var configTemplate = template.Must(template.New("prometheus.yml").Parse(`# Rendered by internal/agentdiff for {{.Side}}.
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
{{.Global}}scrape_configs:
{{- range .Jobs}}
  - job_name: {{.Name}}
    honor_labels: {{.HonorLabels}}
    honor_timestamps: {{.HonorTimestamps}}
    static_configs:
{{- range .Targets}}
      - targets: ['{{index $.Addrs .Name}}']
        labels:
          target: '{{.Name}}'
{{- end}}
    relabel_configs:
      - source_labels: [target]
        target_label: instance
{{- if .Extra}}
{{.Extra}}
{{- end}}
{{- end}}
remote_write:
  - url: {{.WriteURL}}
{{.RemoteWrite}}`))

// Config renders the plan's prometheus.yml for one scraper: its targets'
// addresses (by target name) and its receiver.
func (p Plan) Config(side string, addrs map[string]string, writeURL string) (string, error) {
	var b bytes.Buffer
	err := configTemplate.Execute(&b, map[string]any{
		"Side": side, "Jobs": p.Jobs, "Addrs": addrs, "WriteURL": writeURL,
		"RemoteWrite": strings.TrimRight(p.RemoteWrite, "\n") + "\n",
		"Global":      lines(p.Global),
	})
	return b.String(), err
}

// Run starts, for each side, a receiver and one instance of every scripted
// target, renders the plan's config for it and starts the scraper; waits
// (up to timeout) until every target's up has reached both receivers for
// more than Plan.Scrapes scrapes; stops both and observes what each
// delivered.
func Run(t *testing.T, p Plan, sides [2]Side, timeout time.Duration) [2]Outcome {
	t.Helper()
	var out [2]Outcome
	var scrapers [2]Scraper
	for i, s := range sides {
		o := &out[i]
		o.Name = s.Name
		o.Receiver = NewReceiver(t)
		o.Receiver.RefuseFirst(p.Refusals...)
		o.Targets = map[string]*Target{}
		addrs := map[string]string{}
		for _, j := range p.Jobs {
			for _, ts := range j.Targets {
				if _, dup := o.Targets[ts.Name]; dup {
					t.Fatalf("plan: target name %q used twice", ts.Name)
				}
				tg := StartTarget(t, ts.Script, p.Scrapes)
				o.Targets[ts.Name] = tg
				addrs[ts.Name] = tg.Addr
			}
		}
		cfg, err := p.Config(s.Name, addrs, o.Receiver.URL)
		if err != nil {
			t.Fatal(err)
		}
		if s.Edit != nil {
			o.Extra = NewReceiver(t)
			cfg = s.Edit(t, cfg, o.Extra)
		}
		o.Config = cfg
	}
	start := time.Now()
	for i, s := range sides {
		scrapers[i] = s.Start(t, out[i].Config)
	}
	t.Logf("both scrapers started in %v", time.Since(start).Round(time.Millisecond))

	// Wait until scrape Scrapes+1 of every target reached each receiver:
	// the samples of the compared scrapes were committed a scrape
	// interval earlier and are then sent too (or flushed on Stop).
	want := p.Scrapes + 1
	deadline := time.Now().Add(timeout)
	for {
		lagging := laggingTargets(out, want)
		if len(lagging) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, o := range out {
				fmt.Fprintf(&b, "\n%s config:\n%s", o.Name, o.Config)
			}
			t.Fatalf("after %s, up of %d scrapes has not reached the receivers for: %s%s", timeout, want, strings.Join(lagging, "; "), b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d scrapes of every target received after %v", want, time.Since(start).Round(time.Millisecond))
	for _, o := range out {
		accepts := map[string]bool{}
		for _, tg := range o.Targets {
			for _, a := range tg.Accepts() {
				accepts[a] = true
			}
		}
		t.Logf("%s asked for %q", o.Name, sortedKeys(accepts))
		if n := o.Receiver.Refused(); n != len(p.Refusals) {
			t.Errorf("%s: %d requests refused, want %d", o.Name, n, len(p.Refusals))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, sc := range scrapers {
		if err := sc.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", sides[i].Name, err)
		}
	}
	for i := range out {
		r := out[i].Receiver
		out[i].Observation = Observe(r.Samples(), r.Metadata(), r.Errors(), p.Scrapes, p.Base)
		if x := out[i].Extra; x != nil {
			out[i].ExtraObservation = Observe(x.Samples(), x.Metadata(), x.Errors(), p.Scrapes, p.Base)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
	return out
}

func laggingTargets(out [2]Outcome, want int) []string {
	var lagging []string
	for _, o := range out {
		for _, name := range sortedKeys(o.Targets) {
			n := o.Receiver.CountWhere(func(ls map[string]string) bool {
				return ls["__name__"] == "up" && ls[TargetLabel] == name
			})
			if n < want {
				lagging = append(lagging, fmt.Sprintf("%s %s (%d up samples, target answered %d scrapes)", o.Name, name, n, o.Targets[name].Scrapes()))
			}
		}
	}
	return lagging
}

// lines is s ending in one newline, or "".
func lines(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}
