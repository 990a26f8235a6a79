package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// commandResult is one whole command's cost, as /usr/bin/time -v reports
// it: wall time, and from the kernel's accounting of the reaped process
// (wait4's rusage) CPU time and peak RSS.
type commandResult struct {
	name    string
	input   string // what it read, for the table
	wall    time.Duration
	cpu     time.Duration
	peak    int64 // bytes (ru_maxrss)
	target  int64 // the peak RSS target for this command, bytes
	targetF string
	err     error
}

// runMeasured runs bin args to the end and measures it. okCodes are the
// exit codes that mean it did its job (default 0).
func runMeasured(ctx context.Context, bin string, args []string, okCodes ...int) (wall, cpu time.Duration, peak int64, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	begin := time.Now()
	err = cmd.Run()
	wall = time.Since(begin)
	if cmd.ProcessState == nil {
		return 0, 0, 0, err
	}
	code := cmd.ProcessState.ExitCode()
	ok := len(okCodes) == 0 && code == 0
	for _, c := range okCodes {
		ok = ok || code == c
	}
	if !ok {
		tailOut := out.Bytes()
		if len(tailOut) > 2000 {
			tailOut = tailOut[len(tailOut)-2000:]
		}
		return 0, 0, 0, fmt.Errorf("%s exited %d: %v; output ends:\n%s", bin, code, err, tailOut)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, 0, errors.New("no rusage for the command")
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return wall, cpu, ru.Maxrss << 10, nil // ru_maxrss is in KiB on Linux
}

// measureFiles generates two expositions of about size bytes and measures
// `rwkit push --file` of the first to the rig's receiver and `rwkit
// collide` of both. The second shares the first half of the metric names'
// series with the first and has its own under the other half.
func measureFiles(ctx context.Context, rg *rig, rwkit string, size int64, o options) ([]commandResult, error) {
	n := seriesForBytes(size)
	a, b := filepath.Join(o.workdir, "expo-a.txt"), filepath.Join(o.workdir, "expo-b.txt")
	sizeA, err := writeExposition(a, n, writerA)
	if err != nil {
		return nil, err
	}
	sizeB, err := writeExposition(b, n, writerB)
	if err != nil {
		return nil, err
	}
	var res []commandResult

	push := commandResult{name: "rwkit push --file", input: fmt.Sprintf("%.1f MB, %d series", mb(sizeA), n),
		target: 3 * sizeA, targetF: "3 x file"}
	token := fmt.Sprintf("push-%d", time.Now().UnixNano())
	rg.begin(token, nil)
	push.wall, push.cpu, push.peak, push.err = runMeasured(ctx, rwkit,
		[]string{"push", "--url", o.writeBase + "/write/" + token, "--file", a, "--timeout", "10m"})
	if c := rg.snapshot(); push.err == nil && (c.requests == 0 || c.bytes < int64(n)*minBytesPerSample) {
		push.err = fmt.Errorf("push exited 0 but the receiver got %d bytes in %d requests for %d series", c.bytes, c.requests, n)
	}
	res = append(res, push)

	// Distinct series: all of a's, and b's own half.
	distinct := n + n/2
	col := commandResult{name: "rwkit collide (2 writers)", input: fmt.Sprintf("2 x %.1f MB, %d distinct series", mb(max(sizeA, sizeB)), distinct),
		target: 200*int64(distinct) + max(sizeA, sizeB), targetF: "200 B/series + largest file"}
	// Exit code 3, collisions found, is the right answer: half of the
	// series are in both.
	col.wall, col.cpu, col.peak, col.err = runMeasured(ctx, rwkit,
		[]string{"collide", "--timeout", "10m", "--limit", "5", "a=" + a, "b=" + b}, 3)
	res = append(res, col)
	return res, nil
}

func mb(b int64) float64 { return float64(b) / 1e6 }
