package wire

import "strconv"

// DecodeError reports malformed protobuf input: where in the message
// (Path, e.g. "timeseries[3].labels[1]") and at which byte offset of the
// input the problem was found.
type DecodeError struct {
	Path   string // field path from the top-level message; empty at top level
	Offset int    // byte offset into the decoded input
	Reason string // what is wrong, e.g. "truncated varint"
}

func (e *DecodeError) Error() string {
	msg := e.Reason + " at offset " + strconv.Itoa(e.Offset)
	if e.Path == "" {
		return msg
	}
	return e.Path + ": " + msg
}

func decodeErr(off int, reason string) error {
	return &DecodeError{Offset: off, Reason: reason}
}

// inField prefixes the path of a *DecodeError or *LimitError with
// field[idx] (idx < 0: no index). The error path is cold, so building
// strings here costs nothing on valid input.
func inField(err error, field string, idx int) error {
	var path *string
	switch e := err.(type) {
	case *DecodeError:
		path = &e.Path
	case *LimitError:
		path = &e.Path
	default:
		return err
	}
	p := field
	if idx >= 0 {
		p += "[" + strconv.Itoa(idx) + "]"
	}
	if *path != "" {
		p += "." + *path
	}
	*path = p
	return err
}

func itoa(i int) string { return strconv.Itoa(i) }
