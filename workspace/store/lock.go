package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/prometheus/prometheus/tsdb/fileutil"
)

// LockFile is the store's own lock in its directory. Each tenant's TSDB
// also locks its folder, but only once it is opened, and it first logs
// that "a lockfile from a previous execution already existed. It was
// replaced" (tsdb.Open) even when another process holds it: the store
// checks its lock before it opens, creates or replays anything.
const LockFile = "rwkit.lock"

// ErrInUse is returned by Open when another Store (in this process or
// another, such as a second rwkit serve) has the directory open.
var ErrInUse = errors.New("directory in use")

// errWouldBlock is flock's answer (LOCK_NB) when another holds the lock.
const errWouldBlock = syscall.EWOULDBLOCK

// lockDir takes an exclusive flock on dir/rwkit.lock without waiting. The
// kernel drops it when the process ends, so a crashed serve leaves a file
// behind but no lock.
func lockDir(dir string) (fileutil.Releaser, error) {
	r, _, err := fileutil.Flock(filepath.Join(dir, LockFile))
	if err == nil {
		return r, nil
	}
	// Flock's error is the OS's ("resource temporarily unavailable"); a
	// lock held by someone else is the case worth a sentence.
	if errors.Is(err, errWouldBlock) {
		return nil, fmt.Errorf("store: open: another process is using %s (it holds %s): %w", dir, filepath.Join(dir, LockFile), ErrInUse)
	}
	return nil, fmt.Errorf("store: open: lock %s: %w", filepath.Join(dir, LockFile), err)
}
