package remotewrite

import "encoding/json"

// MarshalJSON encodes e with snake_case keys, for reports that scripts
// read (rwkit push --output json): what the receiver said, what the
// refused request held, where it stood in the write, and Error's text.
func (e *Error) MarshalJSON() ([]byte, error) {
	type counts struct {
		Series     int `json:"series"`
		Samples    int `json:"samples"`
		Histograms int `json:"histograms"`
		Exemplars  int `json:"exemplars"`
	}
	out := struct {
		Status            int     `json:"status"`
		StatusText        string  `json:"status_text,omitempty"`
		Reason            string  `json:"reason,omitempty"`
		Hint              string  `json:"hint,omitempty"`
		Body              string  `json:"body"`
		BodyTruncated     bool    `json:"body_truncated,omitempty"`
		URL               string  `json:"url,omitempty"`
		Version           string  `json:"version,omitempty"`
		Request           int     `json:"request"`
		Requests          int     `json:"requests"`
		BytesCompressed   int     `json:"bytes_compressed"`
		BytesUncompressed int     `json:"bytes_uncompressed"`
		Attempts          int     `json:"attempts"`
		RetryAfterSeconds float64 `json:"retry_after_seconds,omitempty"`
		Retryable         bool    `json:"retryable"`
		NoCredentials     bool    `json:"credentials_missing,omitempty"`
		Error             string  `json:"error"`
		counts
		Written *counts `json:"written,omitempty"`
	}{
		Status: e.StatusCode, StatusText: e.Status, Reason: string(e.Reason), Hint: e.Hint,
		Body: e.Body, BodyTruncated: e.BodyTruncated, URL: e.URL,
		Request: e.Request, Requests: e.Requests,
		BytesCompressed: e.BytesCompressed, BytesUncompressed: e.BytesUncompressed,
		Attempts: e.Attempts, RetryAfterSeconds: e.RetryAfter.Seconds(), Retryable: e.Retryable(), NoCredentials: e.CredentialsMissing(), Error: e.Error(),
		counts: counts{e.Series, e.Samples, e.Histograms, e.Exemplars},
	}
	if e.Version != 0 {
		out.Version = e.Version.String()
	}
	if e.Written != nil {
		out.Written = &counts{e.Written.Series, e.Written.Samples, e.Written.Histograms, e.Written.Exemplars}
	}
	return json.Marshal(out)
}
