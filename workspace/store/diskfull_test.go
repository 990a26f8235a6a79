package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/rwkit/rwkit/internal/disktest"
	"github.com/rwkit/rwkit/internal/syncbuf"
)

// fillBatch appends n new series (metric{batch, s}) with one sample each.
func fillBatch(tn *Tenant, metric string, batch, n int) (*Appender, error) {
	a := tn.Appender(context.Background())
	for s := range n {
		if err := a.Append(series(metric, "batch", strconv.Itoa(batch), "s", strconv.Itoa(s)), base+int64(batch), float64(batch*1000+s)); err != nil {
			_ = a.Rollback()
			return nil, err
		}
	}
	return a, nil
}

// TestDiskFullFailsClosedAndRecovers fills a tenant's disk (a 2 MiB tmpfs)
// until a commit fails, and checks the states the tenant goes through:
// failed (every write refused with ErrCannotWrite, logged once, listed by
// Unwritable) while the disk is full, writable again once it has room and
// the TSDB was reopened (logged once with the count of refused writes),
// and that every committed sample of both phases is there after a restart.
func TestDiskFullFailsClosedAndRecovers(t *testing.T) {
	var logs syncbuf.Buffer
	opts := Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	fs, dir, s := openSmallDisk(t, 2<<20, opts)
	tn := tenant(t, s, "ws-1")

	// A batch begun before the failure and committed after the disk has
	// room again, but before the recovery, would land behind the torn
	// record: it must be refused.
	early := tn.Appender(context.Background())
	if err := early.Append(series("early"), base, 1); err != nil {
		t.Fatal(err)
	}
	committed, batch := fillUntilFull(t, tn)
	if err := tn.Writable(); !errors.Is(err, ErrCannotWrite) {
		t.Errorf("Writable after a failed commit: %v, want ErrCannotWrite", err)
	}
	if diff := cmp.Diff([]string{"ws-1"}, s.Unwritable()); diff != "" {
		t.Errorf("Unwritable while full (-want +got):\n%s", diff)
	}
	// Refused at the first append, and at Commit, without a TSDB appender.
	refused := 1
	for range 3 {
		a := tn.Appender(context.Background())
		if err := a.Append(series("fill", "s", "x"), base, 1); !errors.Is(err, ErrCannotWrite) {
			t.Errorf("append while full: %v, want ErrCannotWrite", err)
		}
		if err := a.Commit(); !errors.Is(err, ErrCannotWrite) {
			t.Errorf("commit while full: %v, want ErrCannotWrite", err)
		}
		refused++
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines, want 1 (the failure, once):\n%s", n, logs.String())
	}

	fs.Resize(32 << 20)
	if err := early.Commit(); !errors.Is(err, ErrCannotWrite) {
		t.Errorf("commit of a batch begun before the failure: %v, want ErrCannotWrite", err)
	}
	refused++
	if err := tn.Writable(); err != nil {
		t.Fatalf("Writable after the disk grew: %v", err)
	}
	if got := s.Unwritable(); len(got) != 0 {
		t.Errorf("Unwritable after the disk grew: %v, want none", got)
	}
	if want := "failed_writes=" + strconv.Itoa(refused); !strings.Contains(logs.String(), want) {
		t.Errorf("no recovery line with %s:\n%s", want, logs.String())
	}
	for i := range 20 {
		a, err := fillBatch(tn, "after", batch+i, 50)
		if err != nil {
			t.Fatal(err)
		}
		commit(t, a)
		for s := range 50 {
			committed[sampleID("after", batch+i, s)] = true
		}
	}

	s = reopen(t, s, dir, opts)
	tn = tenant(t, s, "ws-1")
	checkFound(t, tn, committed)
}

// TestDiskFullClosedWhileFailed: a store closed while a tenant cannot write
// (rwkit serve stopped with a full disk) and opened once the disk has room
// has every committed sample, and takes writes.
func TestDiskFullClosedWhileFailed(t *testing.T) {
	fs := disktest.Mount(t, 2<<20)
	dir := filepath.Join(fs.Dir, "data")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	committed, batch := fillUntilFull(t, tenant(t, s, "ws-1"))
	if err := s.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}
	fs.Resize(32 << 20)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	tn := tenant(t, s, "ws-1")
	a, err := fillBatch(tn, "after", batch, 10)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	for s := range 10 {
		committed[sampleID("after", batch, s)] = true
	}
	checkFound(t, tn, committed)
}

// fillUntilFull commits batches of 1000 new series to tn until a commit
// fails with ErrCannotWrite; it returns the committed samples (by
// sampleID) and the next batch number. A batch's series record spans WAL
// pages, so that the failure tears a record: without the fail-closed
// state, every commit after it is lost at the next Open.
func fillUntilFull(t *testing.T, tn *Tenant) (map[string]bool, int) {
	t.Helper()
	committed := map[string]bool{}
	for batch := range 2000 {
		a, err := fillBatch(tn, "fill", batch, 1000)
		if err != nil {
			t.Fatalf("append on a disk not yet full: %v", err)
		}
		err = a.Commit()
		if err == nil {
			for s := range 1000 {
				committed[sampleID("fill", batch, s)] = true
			}
			continue
		}
		if !errors.Is(err, ErrCannotWrite) {
			t.Fatalf("failed commit: %v, want ErrCannotWrite", err)
		}
		return committed, batch + 1
	}
	t.Fatal("the disk never filled up")
	return nil, 0
}

// checkFound fails t unless every committed sample is in tn. More may be
// found: a failed commit's record that reached the WAL whole before it
// could be cut (health.go).
func checkFound(t *testing.T, tn *Tenant, committed map[string]bool) {
	t.Helper()
	found := map[string]bool{}
	for _, metric := range []string{"fill", "after"} {
		for ls, ps := range read(t, tn, metric) {
			for _, p := range ps {
				found[ls+"@"+strconv.FormatInt(p.T, 10)+"="+strconv.FormatFloat(p.V, 'g', -1, 64)] = true
			}
		}
	}
	lost := 0
	for id := range committed {
		if !found[id] {
			lost++
		}
	}
	t.Logf("%d samples committed, %d found after restart, %d of the committed missing", len(committed), len(found), lost)
	if lost > 0 {
		t.Errorf("%d of %d committed samples lost at restart", lost, len(committed))
	}
}

// sampleID names fillBatch's sample s of batch as read names it.
func sampleID(metric string, batch, s int) string {
	ls := labels.FromStrings("__name__", metric, "batch", strconv.Itoa(batch), "s", strconv.Itoa(s))
	return ls.String() + "@" + strconv.FormatInt(base+int64(batch), 10) + "=" + strconv.FormatFloat(float64(batch*1000+s), 'g', -1, 64)
}

// TestRestoreInterruptedRepair: a WAL repair that failed half-way (the
// original segment renamed to .repair, a short copy in its place) is
// undone before the next Open repairs again.
func TestRestoreInterruptedRepair(t *testing.T) {
	wal := t.TempDir()
	seg := filepath.Join(wal, "00000003")
	if err := os.WriteFile(seg, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seg+".repair", []byte("the original segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	restored, err := restoreInterruptedRepair(wal)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{seg}, restored); diff != "" {
		t.Errorf("restored (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(seg)
	if err != nil || string(b) != "the original segment" {
		t.Errorf("segment after restore: %q, %v", b, err)
	}
	if _, err := os.Stat(seg + ".repair"); !os.IsNotExist(err) {
		t.Errorf(".repair still there: %v", err)
	}
}

// TestDiskFullConcurrentCommits: 8 goroutines commit at once while the disk
// fills, then again once it has room. No commit answered nil may be behind
// the torn record of one that failed (commitMu orders them), and the
// recovery waits for appenders in flight.
func TestDiskFullConcurrentCommits(t *testing.T) {
	fs, dir, s := openSmallDisk(t, 2<<20, Options{})
	tn := tenant(t, s, "ws-1")

	var mu sync.Mutex
	committed := map[string]bool{}
	run := func(metric string, phase func(g, batch int, err error) bool) {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					batch := g*10_000 + i
					if metric == "after" {
						batch += 5_000
					}
					a, err := fillBatch(tn, metric, batch, 300)
					if err == nil {
						err = a.Commit()
					}
					if err == nil {
						mu.Lock()
						for s := range 300 {
							committed[sampleID(metric, batch, s)] = true
						}
						mu.Unlock()
					} else if !errors.Is(err, ErrCannotWrite) {
						t.Errorf("goroutine %d: %v, want ErrCannotWrite", g, err)
						return
					}
					if !phase(g, i, err) {
						return
					}
				}
			})
		}
		wg.Wait()
	}
	// Until each goroutine was refused, or 2000 batches.
	run("fill", func(_, i int, err error) bool { return err == nil && i < 2000 })
	if len(s.Unwritable()) != 1 {
		t.Fatal("the disk never filled up")
	}
	fs.Resize(64 << 20)
	// Refused while the TSDB is being reopened (its WAL replayed): retried
	// as a writer would, within a bound that is not a speed requirement.
	ok := make([]int, 8)
	deadline := time.Now().Add(time.Minute)
	run("after", func(g, _ int, err error) bool {
		if err == nil {
			ok[g]++
		} else {
			_ = tn.Writable()
			time.Sleep(10 * time.Millisecond)
		}
		return ok[g] < 5 && time.Now().Before(deadline)
	})
	for g, n := range ok {
		if n < 5 {
			t.Errorf("goroutine %d: %d commits after the disk grew, want 5", g, n)
		}
	}
	s = reopen(t, s, dir, Options{})
	checkFound(t, tenant(t, s, "ws-1"), committed)
}

// A tenant's first sample on a full disk (its TSDB not open yet) is
// refused, whether opening the TSDB or committing to it is what fails, and
// nothing of it is stored; once the disk has room the tenant takes writes,
// and only those are there after a restart.
func TestDiskFullFirstSample(t *testing.T) {
	fs, dir, s := openSmallDisk(t, 1<<20, Options{})
	filler := filepath.Join(fs.Dir, "filler")
	fillDisk(t, filler)

	tn := tenant(t, s, "ws-new")
	a := tn.Appender(context.Background())
	err := a.Append(series("up"), base, 1)
	if err == nil {
		err = a.Commit()
	} else {
		_ = a.Rollback()
	}
	var ae *AppendError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("first sample on a full disk: %v, want a storage error", err)
	}
	t.Logf("first sample on a full disk: %v", err)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := tn.Writable(); err != nil {
		t.Fatalf("Writable once the disk has room: %v", err)
	}
	a = tn.Appender(context.Background())
	if err := a.Append(series("up"), base+1, 2); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	s2 := reopen(t, s, dir, Options{})
	if diff := cmp.Diff(map[string][]point{`{__name__="up"}`: {{T: base + 1, V: 2}}}, read(t, tenant(t, s2, "ws-new"), "up")); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}

// openSmallDisk opens a store (closed when the test ends) in dir, the data
// directory of a file system of size bytes, with a failed tenant's
// recovery tried on every write instead of at most once a second.
func openSmallDisk(t *testing.T, size int64, opts Options) (*disktest.FS, string, *Store) {
	t.Helper()
	fs := disktest.Mount(t, size)
	dir := filepath.Join(fs.Dir, "data")
	s := openStoreIn(t, dir, opts)
	s.recoverEvery = 0
	return fs, dir, s
}

// fillDisk writes name until its file system is full.
func fillDisk(t *testing.T, name string) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
