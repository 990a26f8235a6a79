package gather

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/wire"
)

// FromGatherer gathers g once and converts the result with Convert.
//
// A Gatherer may return families together with an error (a collector
// failed, or two collectors disagree); client_golang calls those partial
// results and promhttp can serve them. FromGatherer converts what was
// returned and reports the Gather error as a *GatherError alongside a
// non-nil request, so that one broken collector does not stop a push
// unless the caller decides it should. A conversion error takes precedence
// and returns no request.
func FromGatherer(g prometheus.Gatherer, opts Options) (*wire.WriteRequest, Report, error) {
	c, err := NewConverter(opts)
	if err != nil {
		return nil, Report{}, err
	}
	c.once = true
	req := &wire.WriteRequest{}
	rep, err := c.AppendGatherer(req, g)
	var ge *GatherError
	if err != nil && !(errors.As(err, &ge) && ge.Families > 0) {
		return nil, Report{}, err
	}
	return req, rep, err
}

// AppendGatherer gathers g once and appends the converted families to req,
// with FromGatherer's rules for partial results.
func (c *Converter) AppendGatherer(req *wire.WriteRequest, g prometheus.Gatherer) (Report, error) {
	fams, gerr := g.Gather()
	if gerr != nil && len(fams) == 0 {
		return Report{}, &GatherError{Err: gerr}
	}
	rep, err := c.Append(req, fams)
	if err != nil {
		return Report{}, err
	}
	if gerr != nil {
		return rep, &GatherError{Err: gerr, Families: len(fams)}
	}
	return rep, nil
}
