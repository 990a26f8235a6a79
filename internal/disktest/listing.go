package disktest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Listing describes everything under dir, one line per path relative to
// dir: its modification time, its mode and, for a file, its size. Two
// listings taken before and after a step that must leave the directory
// alone (a second process refused because the first holds the lock)
// differ if the step created, removed, resized or rewrote anything.
func Listing(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b.WriteString(rel + " " + fi.ModTime().Format(time.RFC3339Nano) + " " + fi.Mode().String())
		if !fi.IsDir() {
			b.WriteString(" " + strconv.FormatInt(fi.Size(), 10))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	return b.String()
}
