package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server the benchmark started, in its own process group.
type proc struct {
	cmd *exec.Cmd
	log string
}

func start(bin string, args []string, logPath string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); f.Close() }()
	return &proc{cmd: cmd, log: logPath}, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop ends the process group: SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pgid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// waitReady polls url until it answers 200, for up to a minute.
func waitReady(ctx context.Context, p *proc, url string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not get ready at %s; its log %s ends:\n%s", p.cmd.Path, url, p.log, tail(p.log))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startPrometheus starts a real Prometheus with its remote-write
// receiver on a free loopback port and returns its write URL.
func startPrometheus(ctx context.Context, bin, dir string) (*proc, string, error) {
	addr, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		return nil, "", err
	}
	p, err := start(bin, []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
		"--web.listen-address=" + addr, "--web.enable-remote-write-receiver"}, filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, p, "http://"+addr+"/-/ready"); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, "http://" + addr + "/api/v1/write", nil
}

// startPassThrough starts `rwkit serve --upstream upstreamURL` (AMP's
// limits, nothing stored locally) and returns its AMP-shaped write URL
// and its base URL.
func startPassThrough(ctx context.Context, bin, dir, name, upstreamURL string) (*proc, string, string, error) {
	addr, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	p, err := start(bin, []string{"serve", "--listen", addr, "--data", filepath.Join(dir, name+"-data"),
		"--upstream", upstreamURL, "--log-level", "warn"}, filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, "", "", err
	}
	base := "http://" + addr
	if err := waitReady(ctx, p, base+"/metrics"); err != nil {
		p.stop()
		return nil, "", "", err
	}
	return p, base + "/workspaces/ws-1/api/v1/remote_write", base, nil
}

// memory is a process's resident set now and at its peak, in bytes
// (VmRSS, VmHWM of /proc/PID/status).
func memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), ":")
		f := strings.Fields(rest)
		if (name != "VmRSS" && name != "VmHWM") || len(f) != 2 {
			continue
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = v << 10
		} else {
			hwm = v << 10
		}
	}
	return rss, hwm, nil
}

// metricSum is the sum of the values of the series of metric name in a
// /metrics page (text format), whose labels contain match.
func metricSum(ctx context.Context, base, name, match string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		f := strings.Fields(line)
		if rest := strings.TrimPrefix(f[0], name); rest != "" && rest[0] != '{' {
			continue // another metric with this prefix
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", name, line, err)
		}
		sum += v
	}
	return sum, sc.Err()
}
