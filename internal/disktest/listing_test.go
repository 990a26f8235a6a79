package disktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A listing stays the same while nothing changes, and changes when a file
// is added or grows.
func TestListing(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := Listing(t, dir)
	if again := Listing(t, dir); again != first {
		t.Errorf("two listings of an untouched directory differ:\n%s\n%s", first, again)
	}
	if !strings.Contains(first, "a ") || strings.Contains(first, dir) {
		t.Errorf("listing does not name a relative to %s:\n%s", dir, first)
	}

	if err := os.WriteFile(filepath.Join(dir, "b"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	added := Listing(t, dir)
	if added == first {
		t.Errorf("a new file did not change the listing:\n%s", added)
	}

	// Appending in place keeps the name; the size still tells.
	w, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if grown := Listing(t, dir); grown == added {
		t.Errorf("a grown file did not change the listing:\n%s", grown)
	}
}
