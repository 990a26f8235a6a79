package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ReserveFile is the file, in the store's directory, that holds
// Options.DiskReserve.
const ReserveFile = "rwkit-disk-reserve"

// reserveCheckEvery is how often the free space is looked at, by the
// store's own ticker and at most as often by the writes that ask.
const reserveCheckEvery = time.Second

// diskReserve keeps room on the store's file system for the writes the
// TSDB makes on its own. Those are not a commit's: the TSDB memory-maps
// full head chunks in the background (every minute, and when it closes),
// and a chunk it cannot write on a full disk makes it panic
// (tsdb.handleChunkWriteError): the process exits, on a shutdown too. The
// WAL still holds every acknowledged sample, but a server that dies each
// time its disk fills, and again at each start while it stays full, is
// not one a writer can rely on.
//
// So the store holds a file of Options.DiskReserve bytes, allocated, and
// refuses writes (ErrCannotWrite, nothing stored) once the free space
// outside it falls under half of it; it then deletes the file, so that
// the TSDB has at least the reserve to finish what it started, and
// recovery and Close have room. Writes are taken again once the file can
// be allocated anew with half the reserve still free after it. A commit
// that fails for the disk (the tenant's health) releases the file too: the
// disk filled faster than the checks saw. The file is allocated, not
// sparse, so it holds real blocks the file system can give back.
type diskReserve struct {
	dir    string
	path   string
	size   int64
	logger *slog.Logger
	now    func() time.Time
	statfs func(dir string) (free, total uint64, err error)

	low atomic.Pointer[error] // non-nil: writes are refused with it

	last atomic.Int64 // unix nanoseconds of the last look at the disk

	mu      sync.Mutex
	held    bool      // the file is allocated at size
	since   time.Time // when writes were first refused
	refused int       // writes refused since
}

// newDiskReserve sets the reserve up at Open: size is capped at a
// twentieth of the file system (a reserve that would take a small disk's
// room for data leaves the rest usable); an existing file of the right
// size is kept. It returns nil when size is 0.
func newDiskReserve(dir string, size int64, logger *slog.Logger) (*diskReserve, error) {
	if size == 0 {
		return nil, nil
	}
	_, total, err := statfs(dir)
	if errors.Is(err, errNoStatfs) {
		logger.Warn("the disk reserve (Options.DiskReserve) is not supported on this system; a full disk may stop the process", "dir", dir)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: disk reserve: %w", err)
	}
	r := &diskReserve{dir: dir, path: filepath.Join(dir, ReserveFile), size: min(size, int64(total/20)), logger: logger, now: time.Now, statfs: statfs}
	if fi, err := os.Stat(r.path); err == nil && fi.Size() == r.size && allocated(fi) >= r.size {
		r.held = true
	}
	r.mu.Lock()
	r.checkLocked(r.now())
	r.mu.Unlock()
	return r, nil
}

// refusal returns the error for a write of tenant id while free space is
// low (and counts the write), nil when writes are taken. It looks at the
// disk when it last did a reserveCheckEvery ago.
func (r *diskReserve) refusal(id string) error {
	if r == nil {
		return nil
	}
	if now := r.now(); now.UnixNano()-r.last.Load() >= int64(reserveCheckEvery) {
		r.mu.Lock()
		if now.UnixNano()-r.last.Load() >= int64(reserveCheckEvery) {
			r.checkLocked(now)
		}
		r.mu.Unlock()
	}
	p := r.low.Load()
	if p == nil {
		return nil
	}
	r.mu.Lock()
	r.refused++
	r.mu.Unlock()
	return cannotWrite(id, *p)
}

// err is the error writes are refused with, nil when they are taken; it
// counts no write.
func (r *diskReserve) err() error {
	if r == nil {
		return nil
	}
	if p := r.low.Load(); p != nil {
		return *p
	}
	return nil
}

// check looks at the disk now (the store's ticker).
func (r *diskReserve) check() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.checkLocked(r.now())
	r.mu.Unlock()
}

// release gives the reserve to the TSDB at once and refuses writes: a
// commit failed for the disk.
func (r *diskReserve) release(cause error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.freeLocked()
	if r.low.Load() == nil {
		r.lowLocked(fmt.Errorf("a commit failed for the disk (%w); the %s reserve was released for the TSDB", cause, bytesText(r.size)), r.now())
	}
}

// checkLocked moves between taking and refusing writes by the free space
// outside the reserve; the caller holds mu.
func (r *diskReserve) checkLocked(now time.Time) {
	r.last.Store(now.UnixNano())
	free, _, err := r.statfs(r.dir)
	if err != nil {
		r.logger.Debug("looking at the disk's free space", "dir", r.dir, "err", err)
		return
	}
	low := r.low.Load() != nil
	switch {
	case !low && r.held && int64(free) < r.size/2:
		r.freeLocked()
		r.lowLocked(fmt.Errorf("its disk has %s free, under half the %s reserve, which was released for the TSDB", bytesText(int64(free)), bytesText(r.size)), now)
	case !low && !r.held:
		// At Open, or a reserve that was never allocated.
		if int64(free) < r.size+r.size/2 || r.allocateLocked() != nil {
			r.lowLocked(fmt.Errorf("its disk has %s free, not room for the %s reserve and half of it again", bytesText(int64(free)), bytesText(r.size)), now)
		}
	case low && int64(free) >= 2*r.size:
		if err := r.allocateLocked(); err != nil {
			r.logger.Debug("allocating the disk reserve", "path", r.path, "err", err)
			return
		}
		refused, down := r.refused, now.Sub(r.since)
		r.low.Store(nil)
		r.refused = 0
		r.logger.Info("workspace disk has room again: writes are taken, the disk reserve is allocated again",
			"dir", r.dir, "free", bytesText(int64(free)), "failed_writes", refused, "down", down.Round(time.Millisecond))
	}
}

// lowLocked starts refusing writes with err, logged once.
func (r *diskReserve) lowLocked(err error, now time.Time) {
	r.low.Store(&err)
	r.since, r.refused = now, 0
	r.logger.Error("workspace disk is low on space: writes are refused (5xx, nothing stored) until it has room again",
		"dir", r.dir, "err", err, "reserve", bytesText(r.size), "room_needed", bytesText(2*r.size))
}

// freeLocked deletes the reserve file.
func (r *diskReserve) freeLocked() {
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.logger.Warn("releasing the disk reserve", "path", r.path, "err", err)
	}
	r.held = false
}

// allocateLocked creates the reserve file with its blocks allocated.
func (r *diskReserve) allocateLocked() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = allocate(f, r.size)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		_ = os.Remove(r.path)
		return err
	}
	r.held = true
	return nil
}

// bytesText writes n in MiB (KiB under one).
func bytesText(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
