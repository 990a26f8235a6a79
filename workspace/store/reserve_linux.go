package store

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// errNoStatfs: the system cannot tell a file system's free space.
var errNoStatfs = errors.New("statfs not supported")

// statfs returns the bytes an unprivileged process may still write on
// dir's file system, and its size.
func statfs(dir string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// allocated is the bytes of a file's blocks.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return 0
}

// allocate gives f size bytes of real blocks: fallocate, or zeros written
// where the file system has no fallocate (a sparse file would hold
// nothing).
func allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
		return err
	}
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			return err
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}
