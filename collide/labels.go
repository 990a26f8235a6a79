package collide

import (
	"encoding/json"
	"slices"

	"github.com/rwkit/rwkit/wire"
)

// Labels is a label set, sorted by name as Find reports it. In JSON it is
// an object from name to value, {"__name__":"up","env":"prod"}, as
// Prometheus' HTTP API writes a series.
type Labels []wire.Label

// MarshalJSON writes ls as an object, its keys sorted.
func (ls Labels) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.LabelMap(ls))
}

// UnmarshalJSON reads an object written by MarshalJSON, sorted by name.
func (ls *Labels) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*ls = nil
		return nil
	}
	out := make(Labels, 0, len(m))
	for k, v := range m {
		out = append(out, wire.Label{Name: k, Value: v})
	}
	slices.SortFunc(out, wire.CompareLabels)
	*ls = out
	return nil
}
