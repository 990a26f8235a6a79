package verify

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzDecode feeds arbitrary API bodies to the response decoder: it must
// return a result or an error, never panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`,
		`{"status":"error","errorType":"bad_data","error":"x"}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1]}]}}`,
		`{"message":"denied"}`, `[]`, `null`, ``,
	} {
		f.Add(200, s)
		f.Add(400, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			status = 200
		}
		resp := &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(bytes.NewBufferString(body))}
		res, err := decode(resp)
		if err == nil && res == nil {
			t.Fatal("nil result without error")
		}
		if err == nil {
			_ = Check(res, []Expectation{ExpectSeries(1), ExpectLabel("a"), ExpectDistinct("a", 1)})
		}
	})
}
