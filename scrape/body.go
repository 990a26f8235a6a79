package scrape

import (
	"bytes"
	"fmt"
	"io"
	"os"

	dto "github.com/prometheus/client_model/go"
)

// Body is an exposition that can be read from the start more than once:
// one in memory (a scrape, stdin) or a file, which is never read whole.
// A reader that streams the text format reads it twice (gather.StreamText);
// other formats are parsed with Parse.
type Body struct {
	// ContentType is the server's Content-Type, "" for a file.
	ContentType string
	data        []byte
	file        *os.File
	size        int64
}

// NewBody is a body in memory.
func NewBody(data []byte, contentType string) *Body {
	return &Body{ContentType: contentType, data: data, size: int64(len(data))}
}

// ReadBody reads r whole (at most MaxBodyBytes) into a Body.
func ReadBody(r io.Reader) (*Body, error) {
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return NewBody(data, ""), nil
}

// OpenFile opens a file as a Body; Close closes it.
func OpenFile(path string) (*Body, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Body{file: f, size: st.Size()}, nil
}

// IsText reports whether Parse reads the body as the Prometheus text
// format (see the function IsText).
func (b *Body) IsText() (bool, error) {
	text, err := IsText(b.at(), b.size, b.ContentType)
	if err != nil {
		return false, fmt.Errorf("read exposition: %w", err)
	}
	return text, nil
}

// Open returns a reader of the body from its start; the previous one is
// then no longer valid.
func (b *Body) Open() (io.Reader, error) {
	if b.file == nil {
		return bytes.NewReader(b.data), nil
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read exposition: %w", err)
	}
	return b.file, nil
}

// Parse is Parse of the whole body with its ContentType.
func (b *Body) Parse() ([]*dto.MetricFamily, error) {
	r, err := b.Open()
	if err != nil {
		return nil, err
	}
	return Parse(r, b.ContentType)
}

// Close closes a file body.
func (b *Body) Close() error {
	if b.file == nil {
		return nil
	}
	return b.file.Close()
}

func (b *Body) at() io.ReaderAt {
	if b.file == nil {
		return bytes.NewReader(b.data)
	}
	return b.file
}
