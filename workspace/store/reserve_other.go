//go:build !linux

package store

import (
	"errors"
	"os"
)

// errNoStatfs: the system cannot tell a file system's free space.
var errNoStatfs = errors.New("statfs not supported")

// statfs is not implemented outside Linux: the disk reserve is off there.
func statfs(string) (free, total uint64, err error) { return 0, 0, errNoStatfs }

func allocated(os.FileInfo) int64 { return 0 }

func allocate(*os.File, int64) error { return errNoStatfs }
