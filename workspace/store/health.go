package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/prometheus/tsdb/fileutil"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// ErrCannotWrite is wrapped by the error of every write a tenant refused
// because its disk failed it (a full disk, an I/O error): nothing of that
// write was stored, and retrying it later is safe.
var ErrCannotWrite = errors.New("the workspace cannot write to its disk")

// recoverEvery is how often a failed tenant tries to recover (probe its
// disk and reopen its TSDB) at most, so that a full disk is not hammered
// by every refused write.
const recoverEvery = time.Second

// health is a tenant's ability to write. A TSDB commit that fails to write
// its WAL leaves a torn record in the active segment (the wlog writes a
// record in page-sized parts and returns at the first failed part; see
// wlog.WL.log), and the WAL object keeps appending behind it: at the next
// Open, the repair (wlog.WL.Repair) drops everything after the tear, which
// would be every write acknowledged since. Cutting a new segment does not
// help either: the repair deletes all segments after the corrupted one.
// So after a failed commit the tenant refuses writes until its TSDB has
// been closed and opened again, which repairs the WAL (truncating at the
// tear, when nothing acknowledged can be behind it) and starts a fresh
// segment; only then are writes accepted again.
type health struct {
	mu      sync.Mutex
	err     error     // the failure that stopped writes; nil: writable
	since   time.Time // when err happened
	refused int       // writes refused since (the failed one included)
	lastTry time.Time // last recovery attempt
	walEnd  walEnd    // where the WAL ended on disk when err happened
}

// fail records a failed commit. It reports whether the tenant was
// writable until now (a state change, to be logged).
func (h *health) fail(err error, now time.Time, end walEnd) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused++
	if h.err != nil {
		return false
	}
	h.err, h.since, h.lastTry, h.walEnd = err, now, now, end
	return true
}

// end returns where the WAL ended when the tenant failed (ok false when
// it has not).
func (h *health) end() walEnd {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.walEnd
}

// walEnd is the WAL's newest segment and its size on disk.
type walEnd struct {
	segment int
	size    int64
	ok      bool
}

// walEndOf returns where the WAL in walDir ends on disk. Taken right after
// a failed commit (no other commit runs: commitMu), it is the end of the
// acknowledged records plus whatever part of the failed one was written.
func walEndOf(walDir string) walEnd {
	_, last, err := wlog.Segments(walDir)
	if err != nil || last < 0 {
		return walEnd{}
	}
	fi, err := os.Stat(wlog.SegmentName(walDir, last))
	if err != nil {
		return walEnd{}
	}
	return walEnd{segment: last, size: fi.Size(), ok: true}
}

// cutWAL drops from walDir what was written after end: the rest of the
// failed commit's record, which the WAL keeps in its page buffer and
// writes when the TSDB is closed (wlog.WL.Close flushes the page), and
// anything written after it. The failed record is then incomplete, the
// repair at Open drops it, and the write answered "nothing stored" does
// not come back. It returns the bytes dropped.
func cutWAL(walDir string, end walEnd) (int64, error) {
	if !end.ok {
		return 0, nil
	}
	entries, err := os.ReadDir(walDir)
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, e := range entries {
		k, err := strconv.Atoi(e.Name())
		if err != nil || k < end.segment {
			continue
		}
		name := filepath.Join(walDir, e.Name())
		fi, err := os.Stat(name)
		if err != nil {
			return dropped, err
		}
		if k > end.segment {
			dropped += fi.Size()
			if err := os.Remove(name); err != nil {
				return dropped, err
			}
			continue
		}
		if fi.Size() > end.size {
			dropped += fi.Size() - end.size
			if err := os.Truncate(name, end.size); err != nil {
				return dropped, err
			}
		}
	}
	return dropped, nil
}

// failure returns the error that stops writes, nil when writable.
func (h *health) failure() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// dueForRecovery reports whether a failed tenant should try to recover
// now, and notes the attempt.
func (h *health) dueForRecovery(now time.Time, every time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil || now.Sub(h.lastTry) < every {
		return false
	}
	h.lastTry = now
	return true
}

// retrySoon forgets the last attempt, for one that could not start.
func (h *health) retrySoon() {
	h.mu.Lock()
	h.lastTry = time.Time{}
	h.mu.Unlock()
}

// recovered clears the failure and returns what is logged with it.
func (h *health) recovered(now time.Time) (refused int, down time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	refused, down = h.refused, now.Sub(h.since)
	h.err, h.refused, h.walEnd = nil, 0, walEnd{}
	return refused, down
}

// refuse counts a write refused while failed and returns the error for
// it.
func (h *health) refuse(id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	h.refused++
	return cannotWrite(id, h.err)
}

// cannotWrite is the error of a write refused because of cause.
func cannotWrite(id string, cause error) error {
	return fmt.Errorf("store: tenant %q: %w; nothing of this write was stored (%w)", id, ErrCannotWrite, cause)
}

// probeSlack is written on top of the WAL's size by probeDisk: two WAL
// pages, the least a commit needs.
const probeSlack = 64 << 10

// probeDisk checks that dir's file system takes writes again before a
// failed tenant reopens its TSDB: it reserves as much as the WAL's newest
// segment plus probeSlack (the repair at Open rewrites that segment next
// to the old one), writes and syncs a page, and removes the file. Opening
// on a disk that is still full would fail in the repair and leave the
// segment half rewritten (restoreInterruptedRepair puts it back, but the
// attempt is pointless).
func probeDisk(dir string) error {
	size := int64(probeSlack)
	if end := walEndOf(filepath.Join(dir, "wal")); end.ok {
		size += end.size
	}
	name := filepath.Join(dir, ".rwkit-disk-probe")
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer os.Remove(name)
	err = fileutil.Preallocate(f, size, true)
	if err == nil {
		_, err = f.Write(make([]byte, 4096))
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// restoreInterruptedRepair undoes a WAL repair that failed half-way. The
// repair (wlog.WL.Repair) renames the corrupted segment to <segment>.repair
// and copies its records up to the corruption into a new file of the
// segment's name; a failure in between (a disk still full) leaves the new
// file short, and the next repair would rename it over the original.
// Putting the original back first makes the next Open repair it again
// from the start.
func restoreInterruptedRepair(walDir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(walDir, "[0-9]*.repair"))
	if err != nil {
		return nil, err
	}
	var restored []string
	for _, m := range matches {
		seg := m[:len(m)-len(".repair")]
		if err := fileutil.Rename(m, seg); err != nil {
			return restored, fmt.Errorf("restore %s from an interrupted WAL repair: %w", seg, err)
		}
		restored = append(restored, seg)
	}
	return restored, nil
}
