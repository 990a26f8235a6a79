package proctest

import (
	"fmt"
	"strings"
)

// Group is the processes of one server, stopped together. A nil *Group
// has no processes.
type Group struct {
	procs []*Process
}

// Launch starts a process as the package's Launch does and adds it to g.
func (g *Group) Launch(dir, name, bin string, args ...string) (*Process, error) {
	p, err := Launch(dir, name, bin, args...)
	if err != nil {
		return nil, err
	}
	g.procs = append(g.procs, p)
	return p, nil
}

// Stop stops every process, the last started first (a querier before the
// store it reads), each with StopGrace between SIGTERM and SIGKILL.
func (g *Group) Stop() {
	if g == nil {
		return
	}
	for i := len(g.procs) - 1; i >= 0; i-- {
		g.procs[i].Stop(StopGrace)
	}
}

// Logs returns the last n lines of each process's log, in start order.
func (g *Group) Logs(n int) string {
	if g == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range g.procs {
		fmt.Fprintf(&b, "--- %s (%s)\n%s", p.Name, p.LogFile, p.Tail(n))
	}
	return b.String()
}
