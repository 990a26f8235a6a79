package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/internal/disktest"
	"github.com/rwkit/rwkit/internal/syncbuf"
)

// reserveSeries and reserveCommits make a tenant whose head holds full
// chunks (120 samples each) waiting to be memory-mapped, as any tenant
// written to for half an hour at a 15 s interval does.
const (
	reserveSeries  = 5000
	reserveCommits = 130
)

// writeChunks commits reserveCommits samples to each of reserveSeries
// series of tn.
func writeChunks(t *testing.T, tn *Tenant) {
	t.Helper()
	for c := range reserveCommits {
		a := tn.Appender(context.Background())
		for i := range reserveSeries {
			if err := a.Append(series("chunky", "s", strconv.Itoa(i)), base+int64(c)*15000, float64(c)); err != nil {
				t.Fatalf("commit %d: %v", c, err)
			}
		}
		if err := a.Commit(); err != nil {
			t.Fatalf("commit %d: %v", c, err)
		}
	}
}

// mmapHeadChunks runs what the TSDB runs every minute in the background:
// writing the head's full chunks to disk.
func mmapHeadChunks(tn *Tenant) {
	tn.dbMu.RLock()
	defer tn.dbMu.RUnlock()
	tn.db.ForceHeadMMap()
}

// TestDiskReserveKeepsTheTSDBAlive fills the disk of a store with a
// reserve from outside (another process's file), as a shared volume
// fills: the store refuses writes (ErrCannotWrite), releases its reserve,
// and the TSDB's own writes (memory-mapping head chunks, closing) go
// through, where without the reserve they panic the process
// (TestWithoutDiskReserveTheTSDBPanics). Every committed sample is there
// after a restart on the full disk, and writes are taken again once it
// has room.
func TestDiskReserveKeepsTheTSDBAlive(t *testing.T) {
	var logs syncbuf.Buffer
	opts := Options{DiskReserve: 64 << 20, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	fs, dir, s := openSmallDisk(t, 64<<20, opts)
	want := int64(64 << 20 / 20) // capped at a twentieth of the disk
	if fi, err := os.Stat(filepath.Join(dir, ReserveFile)); err != nil || fi.Size() != want {
		t.Fatalf("reserve file: %v, %v; want %d bytes", fi, err, want)
	}
	tn := tenant(t, s, "ws-1")
	writeChunks(t, tn)

	filler := filepath.Join(fs.Dir, "filler")
	fillDisk(t, filler)
	s.reserve.check() // the store's ticker does it within a second
	if _, err := os.Stat(filepath.Join(dir, ReserveFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserve file on a full disk: %v, want it released", err)
	}
	a := tn.Appender(context.Background())
	if err := a.Append(series("up"), base+reserveCommits*15000, 1); !errors.Is(err, ErrCannotWrite) {
		t.Errorf("append on a full disk: %v, want ErrCannotWrite", err)
	}
	_ = a.Rollback()
	if got := s.Unwritable(); len(got) != 1 || got[0] != "ws-1" {
		t.Errorf("Unwritable on a full disk: %v, want [ws-1]", got)
	}
	mmapHeadChunks(tn) // panics without the reserve's room
	if n := strings.Count(logs.String(), "workspace disk is low on space"); n != 1 {
		t.Errorf("low-space lines logged: %d, want 1:\n%s", n, logs.String())
	}

	// A restart while the disk is still full: Close writes the head
	// chunks, Open replays the WAL; nothing acknowledged is missing.
	s = reopen(t, s, dir, opts)
	tn = tenant(t, s, "ws-1")
	got := read(t, tn, "chunky")
	if len(got) != reserveSeries {
		t.Fatalf("series after a restart on a full disk: %d, want %d", len(got), reserveSeries)
	}
	for k, ps := range got {
		if len(ps) != reserveCommits {
			t.Fatalf("%s: %d samples after a restart on a full disk, want %d", k, len(ps), reserveCommits)
		}
	}
	if err := tn.Writable(); !errors.Is(err, ErrCannotWrite) {
		t.Errorf("Writable after a restart on a full disk: %v, want ErrCannotWrite", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.reserve.check()
	if err := tn.Writable(); err != nil {
		t.Errorf("Writable once the disk has room: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ReserveFile)); err != nil || fi.Size() != want || allocated(fi) < want {
		t.Errorf("reserve file once the disk has room: %v, %v; want %d allocated bytes", fi, err, want)
	}
	a = tn.Appender(context.Background())
	if err := a.Append(series("up"), base+reserveCommits*15000, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Errorf("commit once the disk has room: %v", err)
	}
	if !strings.Contains(logs.String(), "workspace disk has room again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// TestWithoutDiskReserveTheTSDBPanics is the failure the reserve is for,
// shown on the TSDB this store embeds: the same disk filled from outside,
// no reserve, and the head chunks' background write panics
// (tsdb.handleChunkWriteError), killing the process. It runs the scenario
// in a child process, so that the panic is observed, not suffered. If a
// TSDB upgrade stops panicking, this test says so, and the reserve's
// reason should be looked at again.
func TestWithoutDiskReserveTheTSDBPanics(t *testing.T) {
	if os.Getenv("RWKIT_RESERVE_CHILD") == "1" {
		fs, _, s := openSmallDisk(t, 64<<20, Options{})
		tn := tenant(t, s, "ws-1")
		writeChunks(t, tn)
		fillDisk(t, filepath.Join(fs.Dir, "filler"))
		mmapHeadChunks(tn)
		t.Log("the head chunks were written on a full disk")
		return
	}
	disktest.Mount(t, 4096) // skips (or fails in CI) where the child could not mount
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWithoutDiskReserveTheTSDBPanics$", "-test.v")
	cmd.Env = append(os.Environ(), "RWKIT_RESERVE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "handleChunkWriteError") || !strings.Contains(string(out), "no space left on device") {
		t.Errorf("without a reserve, a full disk under the head chunks: err %v, want the TSDB's panic; output:\n%s", err, lastLines(string(out), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestDiskReserveOwnWritesFillTheDisk fills a store's disk with its own
// writes, as a workspace whose volume is too small does: writes are
// refused with ErrCannotWrite (by the reserve, or by a failed commit when
// the disk filled between two looks at it), the reserve is released either
// way, the TSDB's background writes go through, and every committed
// sample is there after a restart.
func TestDiskReserveOwnWritesFillTheDisk(t *testing.T) {
	opts := Options{DiskReserve: 1 << 20}
	_, dir, s := openSmallDisk(t, 3<<20, opts)
	tn := tenant(t, s, "ws-1")
	committed := map[string]bool{}
	refused := false
	for batch := 0; batch < 2000 && !refused; batch++ {
		s.reserve.check() // as the ticker would, between writes
		a, err := fillBatch(tn, "fill", batch, 1000)
		if err == nil {
			err = a.Commit()
		}
		switch {
		case err == nil:
			for i := range 1000 {
				committed[sampleID("fill", batch, i)] = true
			}
		case errors.Is(err, ErrCannotWrite):
			refused = true
		default:
			t.Fatalf("batch %d: %v, want ErrCannotWrite once the disk is low", batch, err)
		}
	}
	if !refused {
		t.Fatal("the disk never filled up")
	}
	if _, err := os.Stat(filepath.Join(dir, ReserveFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserve file once writes are refused: %v, want it released", err)
	}
	mmapHeadChunks(tn)
	s = reopen(t, s, dir, opts)
	checkFound(t, tenant(t, s, "ws-1"), committed)
}

// TestDiskReserveNoRoomAtOpen opens a store on a disk without room for its
// reserve (but room for its own small files: on a disk with none, Open
// fails creating its query log): it opens, refuses writes (ready says so), and takes them once
// the disk has room, the reserve allocated then.
func TestDiskReserveNoRoomAtOpen(t *testing.T) {
	fs := disktest.Mount(t, 8<<20)
	dir := filepath.Join(fs.Dir, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(fs.Dir, "filler")
	fillDisk(t, filler)
	// Room for the store's own files (its query log), not for the reserve.
	if fi, err := os.Stat(filler); err != nil || os.Truncate(filler, fi.Size()-256<<10) != nil {
		t.Fatalf("making 256 KiB of room: %v", err)
	}
	var logs syncbuf.Buffer
	s := openStoreIn(t, dir, Options{DiskReserve: 1 << 20, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tn := tenant(t, s, "ws-1")
	if err := tn.Writable(); !errors.Is(err, ErrCannotWrite) || !strings.Contains(err.Error(), "not room for the 409 KiB reserve") {
		t.Errorf("Writable on a disk without room for the reserve: %v, want ErrCannotWrite naming the reserve", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.reserve.check()
	if err := tn.Writable(); err != nil {
		t.Errorf("Writable once the disk has room: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ReserveFile)); err != nil || allocated(fi) < 409<<10 {
		t.Errorf("reserve file once the disk has room: %v, %v", fi, err)
	}
	if got := strings.Count(logs.String(), "level=ERROR"); got != 1 {
		t.Errorf("ERROR lines: %d, want 1:\n%s", got, logs.String())
	}
}
