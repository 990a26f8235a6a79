package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// proc is a started agent.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // Wait's, once done is closed
}

// start runs bin in its own process group with its output in logPath.
func start(bin string, args []string, logPath string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the agent to stop (SIGTERM) and kills its process group if it
// has not within 20 s.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// diedError says that the agent exited by itself, with the end of its log.
func (p *proc) diedError(when string) error {
	return fmt.Errorf("exited %s (%v); its log %s ends:\n%s", when, p.err, p.log, tail(p.log, 15))
}

// tail is the last n lines of the file path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// agentResult is one agent's measurement at one target size.
type agentResult struct {
	agent  string
	series int // per scrape
	window time.Duration
	cpu    time.Duration // user+system over the window
	peak   int64         // bytes: VmHWM at the window's end, or the largest VmRSS sampled
	sent   counters      // the rig's counts over the window
	err    error         // set: no figures are printed for this agent
}

// bytesPerSample is what the receiver got per scraped sample.
func (r agentResult) bytesPerSample() float64 { return float64(r.sent.bytes) / float64(r.samples()) }

// samples is how many series the agent scraped in the window.
func (r agentResult) samples() int64 { return r.sent.scrapes * int64(r.series) }

// cpuPerSeries is CPU time per scraped series (ns).
func (r agentResult) cpuPerSeries() float64 {
	return float64(r.cpu.Nanoseconds()) / float64(r.samples())
}

// minBytesPerSample is the least a remote-write body can carry per sample
// of this benchmark's series (Snappy-compressed RW 1.0 of these series is
// about 15 to 20 B/sample): an agent below it is not sending what it scrapes.
const minBytesPerSample = 1

// behind says how an agent that delivered fell behind: fewer scrapes than
// the interval allows, or less sent per scraped sample than vmagent (base,
// when it ran) sent for the same series. Its figures are kept: they are
// per scrape it made, and what it sent.
func behind(r agentResult, base *agentResult, interval time.Duration) []string {
	var notes []string
	if want := int64(r.window / interval); r.sent.scrapes < want*3/4 {
		notes = append(notes, fmt.Sprintf("%d of %d scrapes: it does not keep up with a %s interval", r.sent.scrapes, want, interval))
	}
	if base != nil && r.bytesPerSample() < 0.75*base.bytesPerSample() {
		notes = append(notes, fmt.Sprintf("received %.0f%% of vmagent's bytes per scraped sample: it did not deliver all it scraped within the window",
			100*r.bytesPerSample()/base.bytesPerSample()))
	}
	return notes
}

// checkDelivery is nil when the agent scraped and sent what a working
// agent would over the window.
func checkDelivery(r agentResult) error {
	c := r.sent
	switch {
	case c.scrapes == 0:
		return fmt.Errorf("the target served it no complete scrape in the %s window", r.window)
	case c.requests == 0 || c.bytes == 0:
		return fmt.Errorf("sent nothing to the receiver in the %s window (%d scrapes of %d series served)", r.window, c.scrapes, r.series)
	case c.notSnappy > 0:
		return fmt.Errorf("%d of its %d requests had no Content-Encoding: snappy: it is not sending RW 1.0 with Snappy", c.notSnappy, c.requests)
	case c.bytes < minBytesPerSample*r.samples():
		return fmt.Errorf("sent %d bytes in %d requests for %d scraped samples (under %d B/sample): it is not delivering what it scrapes"+
			" (if it is still catching up after its start, a longer -warmup may let it)", c.bytes, c.requests, r.samples(), minBytesPerSample)
	}
	return nil
}

// measure runs one agent against the rig serving body (series series):
// warm-up, then the measured window, then it stops the agent. A returned
// error stops the benchmark; an agent that fails is reported in the
// result's err.
func measure(ctx context.Context, rg *rig, a agent, body []byte, series int, o options) agentResult {
	res := agentResult{agent: a.name, series: series, window: o.window}
	res.err = func() error {
		dir := filepath.Join(o.workdir, fmt.Sprintf("%s-%d", a.name, series))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		token := fmt.Sprintf("%s-%d-%d", a.name, series, time.Now().UnixNano())
		rg.begin(token, body)
		s := setup{interval: o.interval, targetURL: o.targetBase + "/metrics/" + token, writeURL: o.writeBase + "/write/" + token}
		args, err := a.args(dir, s)
		if err != nil {
			return err
		}
		p, err := start(a.bin, args, filepath.Join(dir, "log"))
		if err != nil {
			return err
		}
		defer p.stop()
		var maxRSS int64
		wait := func(d time.Duration, when string) error {
			end := time.Now().Add(d)
			for time.Now().Before(end) {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-p.done:
					return p.diedError(when)
				case <-time.After(min(time.Second, time.Until(end))):
				}
				if rss, _, err := memory(p.cmd.Process.Pid); err == nil {
					maxRSS = max(maxRSS, rss)
				}
			}
			return nil
		}
		if err := wait(o.warmup, "during the warm-up"); err != nil {
			return err
		}
		pid := p.cmd.Process.Pid
		cpu0, err := cpuTime(pid)
		if err != nil {
			return err
		}
		c0 := rg.snapshot()
		if err := wait(o.window, "during the window"); err != nil {
			return err
		}
		cpu1, err := cpuTime(pid)
		if err != nil {
			return err
		}
		c1 := rg.snapshot()
		_, hwm, err := memory(pid)
		if err != nil {
			return err
		}
		res.cpu, res.sent, res.peak = cpu1-cpu0, c1.sub(c0), max(hwm, maxRSS)
		if err := checkDelivery(res); err != nil {
			return fmt.Errorf("%w; its log: %s", err, p.log)
		}
		return nil
	}()
	return res
}

// errAgents says some agent delivered nothing measurable; the table
// shows which.
var errAgents = errors.New("not every agent delivered: see FAILED above")
