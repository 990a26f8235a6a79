package proctest

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
)

// Binary returns the path in the environment variable env, which must be
// set and name an existing file.
func Binary(env string) (string, error) {
	p := os.Getenv(env)
	if p == "" {
		return "", fmt.Errorf("%s is not set", env)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w", env, err)
	}
	return p, nil
}

// FreePorts returns n distinct loopback ports that were free for TCP and
// UDP (memberlist, where a server uses it, listens on both). They are
// found by listening and closing, so another process may take one before
// the server does: callers retry a start that fails with "address already
// in use".
func FreePorts(n int) ([]int, error) {
	var ports []int
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, l)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", HostPort(port))
		if err != nil {
			continue // UDP side taken: keep the TCP one held and pick another
		}
		closers = append(closers, u)
		ports = append(ports, port)
	}
	return ports, nil
}

// HostPort is 127.0.0.1:port.
func HostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// NeedBinary returns the binary Binary(env) finds for the server name, or
// ends the test without it: skipped, unless the environment variable
// require is "1" (scripts/test sets it, and so CI), in which case it fails,
// since a suite that silently skips its real servers proves nothing. hint
// says how to get the binary.
func NeedBinary(t testing.TB, name, env, require, hint string) string {
	t.Helper()
	bin, err := Binary(env)
	if err != nil {
		if os.Getenv(require) == "1" {
			t.Fatalf("%s=1 but no %s binary: %v (%s)", require, name, err, hint)
		}
		t.Skipf("no %s binary (%v); %s", name, err, hint)
	}
	return bin
}
