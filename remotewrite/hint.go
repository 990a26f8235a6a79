package remotewrite

import "github.com/rwkit/rwkit/validate"

// Hint returns the one-line fix Classify gives for reason, or "" for a
// reason it has no hint for. rwkit discards shows it next to AMP's
// DiscardedSamples reasons, which use the same names.
func Hint(reason validate.Reason) string { return hints[reason] }
