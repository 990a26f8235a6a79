package proctest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const StopGrace = 15 * time.Second

// Process is one started server process.
type Process struct {
	// Name names the process in errors and logs.
	Name string
	// LogFile holds what the process writes to stdout and stderr.
	LogFile string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// Launch starts bin with args in dir, its output going to DIR/NAME.log.
func Launch(dir, name, bin string, args ...string) (*Process, error) {
	p := &Process{Name: name, LogFile: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.LogFile)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	// Servers write some files relative to their working directory (e.g.
	// Cortex's active-query tracker): keep them in the test's directory.
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// Its own process group, so a signal to the test's group (Ctrl-C) does
	// not race the orderly stop; and killed with the test binary (go
	// test's timeout kills it with no cleanup), so no server outlives it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has exited (true for a nil Process,
// one that was never started).
func (p *Process) Exited() bool {
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (Wait's result); nil while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// PID is the process id (0 for a nil Process).
func (p *Process) PID() int {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// RSS returns the process's resident set size in bytes (from
// /proc/PID/status; Linux only).
func (p *Process) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

// WaitReady polls u with header until it answers 200, the process exits
// or deadline passes.
func (p *Process) WaitReady(u string, header http.Header, deadline time.Time) error {
	var last string
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited: %v", p.Name, p.err)
		}
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s: %s", p.Name, u, last)
}

// Stop sends SIGTERM and waits for the process to exit, sending SIGKILL
// after grace; it returns whether the process exited by itself. A
// Process that has exited is left alone.
func (p *Process) Stop(grace time.Duration) bool {
	if p.Exited() {
		return true
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err == nil {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
			return true
		case <-t.C:
		}
	}
	p.Kill()
	return false
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Log returns all the process has written so far, or the error reading
// it.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.LogFile)
	if err != nil {
		return err.Error() + "\n"
	}
	return string(b)
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string { return Tail(p.LogFile, n) }

// Tail returns the last n lines of file, or the error reading it.
func Tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error() + "\n"
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
