package validate

import "unicode/utf8"

// The checks below follow prometheus/common v0.67's
// ValidationScheme.IsValidMetricName and IsValidLabelName (model/metric.go).

func validLegacyLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r >= '0' && r <= '9' && i > 0) {
			return false
		}
	}
	return true
}

func validLegacyMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == ':' || r >= '0' && r <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// ValidMetricName reports whether s is a metric name under v.
func (v NameValidation) ValidMetricName(s string) bool {
	if v == UTF8Names {
		return s != "" && utf8.ValidString(s)
	}
	return validLegacyMetricName(s)
}

// ValidLabelName reports whether s is a label name under v.
func (v NameValidation) ValidLabelName(s string) bool {
	if v == UTF8Names {
		return s != "" && utf8.ValidString(s)
	}
	return validLegacyLabelName(s)
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
