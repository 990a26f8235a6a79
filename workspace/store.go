package workspace

import (
	"errors"

	"github.com/rwkit/rwkit/workspace/store"
)

// New returns a workspace that stores what it accepts in st. The caller
// opened st (with the limits' OutOfOrderTimeWindow as
// store.Options.OutOfOrderWindow) and closes it after the workspace.
func New(st *store.Store, opts ...Option) (*Workspace, error) {
	if st == nil {
		return nil, errors.New("workspace: New(nil store): open one with store.Open(dir, store.Options{...})")
	}
	return newWorkspace(st, opts...)
}
