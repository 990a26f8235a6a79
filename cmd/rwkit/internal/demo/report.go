package demo

import (
	"fmt"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/verify"
	"github.com/rwkit/rwkit/workspace"
)

// Report is what the demo saw and whether the story held.
type Report struct {
	Pass      bool          `json:"pass"`
	Workspace string        `json:"workspace"` // query API base
	WriteURL  string        `json:"write_url"`
	Limits    string        `json:"limits"`
	Services  []string      `json:"services"`
	Rounds    int           `json:"rounds"`
	Interval  string        `json:"interval"`
	Phases    []PhaseReport `json:"phases"`
	// HAPair is the third act (ha.go).
	HAPair  *HAReport `json:"ha_pair,omitempty"`
	Checks  []Check   `json:"checks"`
	Seconds float64   `json:"seconds"`
}

// PhaseReport is one phase: what the services saw (from each pusher's
// self-metrics) and what the workspace saw.
type PhaseReport struct {
	Name     string   `json:"name"`
	Identity bool     `json:"identity"`
	Options  []string `json:"options"`
	// Timestamps are the interval boundaries of the rounds (Unix ms): the
	// batch timestamp every service stamped in that round.
	Timestamps []int64         `json:"timestamps"`
	Services   []ServicePushes `json:"services"`
	Total      ServicePushes   `json:"total"`
	// FirstRefusal is one refused push, as the service saw it.
	FirstRefusal *Refusal `json:"first_refusal,omitempty"`
	// Errors are failures other than refusals (network, timeouts).
	Errors   []string  `json:"errors,omitempty"`
	Received float64   `json:"received_samples"`
	Accepted float64   `json:"accepted_samples"`
	Discards []Discard `json:"discards"`
	// CollisionsByKind counts the collision groups (series, writer pair,
	// kind) this phase added or grew; Collisions are the first
	// MaxCollisions series among them: the refused kind first, the
	// services' own metrics before the runtime's.
	CollisionsByKind map[string]int `json:"collisions_by_kind"`
	Collisions       []Collision    `json:"collisions"`
	// TwoServices describes the first refused collision between two
	// different services, "" when there was none.
	TwoServices string      `json:"two_services,omitempty"`
	Query       *QueryProof `json:"query,omitempty"`
}

// ServicePushes counts one service's writes in a phase, from its pusher's
// rwkit_push_requests_total and rwkit_push_rejected_samples_total.
type ServicePushes struct {
	Service   string `json:"service"`
	Delivered int    `json:"delivered"`
	Refused   int    `json:"refused"`
	// Failed are writes retried or given up (network, timeouts): none
	// expected here.
	Failed         int                `json:"failed"`
	RefusedSamples map[string]float64 `json:"refused_samples"` // by reason
}

func (s *ServicePushes) add(o ServicePushes) {
	s.Delivered += o.Delivered
	s.Refused += o.Refused
	s.Failed += o.Failed
	if s.RefusedSamples == nil {
		s.RefusedSamples = map[string]float64{}
	}
	for r, n := range o.RefusedSamples {
		s.RefusedSamples[r] += n
	}
}

// Refusal is one refused write: status, reason and the workspace's body
// (Cortex's text, then rwkit's lines naming the writers).
type Refusal struct {
	Service string `json:"service"`
	Status  int    `json:"status"`
	Reason  string `json:"reason"`
	Body    string `json:"body"`
}

// Discard is the workspace's rwkit_discarded_samples_total for one reason
// over a phase: what AMP reports as CloudWatch DiscardedSamples by Reason.
type Discard struct {
	Reason  string  `json:"reason"`
	Samples float64 `json:"samples"`
	Hint    string  `json:"hint,omitempty"`
}

// Collision is one series that several writers wrote in a phase, of one
// kind, from the workspace's collision groups (one per writer pair), with
// the services behind the writers and the most recent occurrence.
type Collision struct {
	Kind   string `json:"kind"`
	Series string `json:"series"`
	// Services are those seen writing the series, sorted.
	Services []string `json:"services"`
	// Pairs is the number of writer pairs, Count the occurrences.
	Pairs int   `json:"pairs"`
	Count int64 `json:"count"`
	// The most recent occurrence: at Timestamp, ExistingService's writer
	// had written ExistingValue when NewService's sent NewValue.
	Timestamp       int64  `json:"timestamp"`
	ExistingValue   string `json:"existing_value"`
	NewValue        string `json:"new_value"`
	ExistingService string `json:"existing_service"`
	NewService      string `json:"new_service"`
	ExistingWriter  string `json:"existing_writer"`
	NewWriter       string `json:"new_writer"`
	// App is set for the metrics the services define, as opposed to the Go
	// and process collectors' and push's self-metrics.
	App  bool `json:"app"`
	rank int
}

// QueryProof is the PromQL query and what it returned; Checks only for the
// phase with identity.
type QueryProof struct {
	Query   string           `json:"query"`
	Samples []verify.Sample  `json:"samples"`
	Checks  []verify.Outcome `json:"checks,omitempty"`
}

// Check is one claim of the story and whether it held.
type Check struct {
	Name string `json:"name"`
	Pass bool   `json:"pass"`
	Got  string `json:"got"`
}

// check states the story: phase 1 collides and is refused, naming two
// services; phase 2 is clean and queryable by service.
func check(phases []PhaseReport) []Check {
	p1, p2 := &phases[0], &phases[1]
	nvft := 0.0
	for _, d := range p1.Discards {
		if d.Reason == string(validate.NewValueForTimestamp) {
			nvft = d.Samples
		}
	}
	named, namedOK := p1.TwoServices, p1.TwoServices != ""
	if !namedOK {
		named = "none"
		if len(p1.Collisions) > 0 {
			c := p1.Collisions[0]
			named = fmt.Sprintf("%s: %s vs %s", c.Kind, orDash(c.ExistingService), orDash(c.NewService))
		}
	}
	p2Discards := 0.0
	var reasons []string
	for _, d := range p2.Discards {
		p2Discards += d.Samples
		reasons = append(reasons, fmt.Sprintf("%s=%g", d.Reason, d.Samples))
	}
	p2Got := "0"
	if p2Discards > 0 {
		p2Got = fmt.Sprintf("%g (%s)", p2Discards, strings.Join(reasons, ", "))
	}
	services := Check{Name: fmt.Sprintf("phase 2: %s shows %d services", Query, len(Services)), Got: "no query"}
	if q := p2.Query; q != nil && len(q.Checks) > 0 {
		services.Pass, services.Got = verify.Passed(q.Checks), q.Checks[0].Got
	}
	return []Check{
		{Name: "phase 1: new-value-for-timestamp discards > 0", Pass: nvft > 0, Got: fmt.Sprintf("%g", nvft)},
		{Name: "phase 1: a refused collision names two different services", Pass: namedOK, Got: named},
		{Name: "phase 2: no new discards", Pass: p2Discards == 0, Got: p2Got},
		services,
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// counts reads the pusher's self-metrics.
func (p *pusher) counts() ServicePushes {
	sp := ServicePushes{Service: p.svc.name, RefusedSamples: map[string]float64{}}
	fams, _ := p.self.Gather()
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			v := int(m.GetCounter().GetValue())
			switch mf.GetName() {
			case "rwkit_push_requests_total":
				switch label(m, "result") {
				case "success":
					sp.Delivered += v
				case "rejected":
					sp.Refused += v
				case "retried", "failed":
					sp.Failed += v
				}
			case "rwkit_push_rejected_samples_total":
				if n := m.GetCounter().GetValue(); n > 0 {
					sp.RefusedSamples[label(m, "reason")] += n
				}
			}
		}
	}
	return sp
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// counts are the workspace's counters for the demo's tenant.
type counts struct {
	received, accepted float64
	discarded          map[string]float64
}

func (d *Demo) workspaceCounts() counts {
	c := counts{discarded: map[string]float64{}}
	fams, _ := d.ws.Registry().Gather()
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			if label(m, "workspace") != WorkspaceID {
				continue
			}
			v := m.GetCounter().GetValue()
			switch mf.GetName() {
			case "rwkit_received_samples_total":
				c.received += v
			case "rwkit_accepted_samples_total":
				c.accepted += v
			case "rwkit_discarded_samples_total":
				c.discarded[label(m, "reason")] += v
			}
		}
	}
	return c
}

// discardDeltas are the discards between two readings, largest first.
func discardDeltas(before, after map[string]float64) []Discard {
	out := []Discard{}
	for r, n := range after {
		if d := n - before[r]; d > 0 {
			out = append(out, Discard{Reason: r, Samples: d, Hint: validate.Reason(r).Hint()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Samples != out[j].Samples {
			return out[i].Samples > out[j].Samples
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// collisionKey identifies a collision group as the workspace groups them:
// kind, series and both writers.
func collisionKey(c workspace.Collision) string {
	existing := ""
	if c.ExistingWriter != nil {
		existing = c.ExistingWriter.String()
	}
	return c.Kind + "\x00" + verify.LabelString(c.Series) + "\x00" + existing + "\x00" + c.NewWriter.String()
}

func collisionCounts(log []workspace.Collision) map[string]int64 {
	m := make(map[string]int64, len(log))
	for _, c := range log {
		m[collisionKey(c)] = c.Count
	}
	return m
}

// MaxCollisions bounds PhaseReport.Collisions.
const MaxCollisions = 20

// twoServices describes the first refused collision between two different
// services in rows.
func twoServices(rows []Collision) string {
	for _, c := range rows {
		if c.Kind == workspace.KindNewValueForTimestamp && c.ExistingService != "" && c.NewService != "" && c.ExistingService != c.NewService {
			return fmt.Sprintf("%s then %s on %s", c.ExistingService, c.NewService, c.Series)
		}
	}
	return ""
}

// newCollisions returns the groups that appeared or grew since seen, one
// row per writer pair, and how many there are of each kind.
func newCollisions(seen map[string]int64, log []workspace.Collision) ([]Collision, map[string]int) {
	out := []Collision{}
	byKind := map[string]int{}
	for _, c := range log {
		n := c.Count - seen[collisionKey(c)]
		if n <= 0 {
			continue
		}
		byKind[c.Kind]++
		row := Collision{
			Kind: c.Kind, Series: verify.LabelString(c.Series), Timestamp: c.Timestamp,
			ExistingValue: c.ExistingValue, NewValue: c.NewValue,
			NewService: writerService(&c.NewWriter), NewWriter: c.NewWriter.String(),
			Pairs: 1, Count: n,
		}
		if r, ok := appMetrics[baseName(c.Series["__name__"])]; ok {
			row.App, row.rank = true, r
		}
		if c.ExistingWriter != nil {
			row.ExistingService, row.ExistingWriter = writerService(c.ExistingWriter), c.ExistingWriter.String()
		}
		out = append(out, row)
	}
	return out, byKind
}

// bySeries merges the rows of one kind and series (the workspace's log is
// most recent first, so the first row of a series is its latest
// occurrence) and orders them: the refused kind first, then the services'
// own metrics (the seed's example first), then by pairs and occurrences.
func bySeries(rows []Collision) []Collision {
	out := []Collision{}
	at := map[string]int{}
	services := map[string]map[string]bool{}
	for _, r := range rows {
		k := r.Kind + "\x00" + r.Series
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			services[k] = map[string]bool{}
			out = append(out, r)
			out[i].Pairs, out[i].Count = 0, 0
		}
		out[i].Pairs++
		out[i].Count += r.Count
		for _, s := range []string{r.ExistingService, r.NewService} {
			if s != "" {
				services[k][s] = true
			}
		}
	}
	for k, i := range at {
		for s := range services[k] {
			out[i].Services = append(out[i].Services, s)
		}
		sort.Strings(out[i].Services)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Kind == workspace.KindNewValueForTimestamp) != (b.Kind == workspace.KindNewValueForTimestamp) {
			return a.Kind == workspace.KindNewValueForTimestamp
		}
		if a.App != b.App {
			return a.App
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.Pairs != b.Pairs {
			return a.Pairs > b.Pairs
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Series < b.Series
	})
	return out
}

// writerService names the service behind a writer: its service label when
// it sent one, else the service whose User-Agent it used.
func writerService(w *workspace.Writer) string {
	if s := w.Labels["service"]; s != "" {
		return s
	}
	for _, s := range Services {
		if w.UserAgent == userAgent(s) {
			return s
		}
	}
	return ""
}

// baseName strips a histogram's or summary's series suffix.
func baseName(name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok {
			return trimmed
		}
	}
	return name
}
