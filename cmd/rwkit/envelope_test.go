package main

import (
	"encoding/json"
	"fmt"
)

// testEnvelope is an --output json answer as a test reads it.
type testEnvelope struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
		Kind    string `json:"kind"`
		Flag    string `json:"flag"`
	} `json:"error"`
	ExitCode int `json:"exit_code"`
}

// unmarshalResult decodes an --output json answer and its result into v
// (left alone when the result is null).
func unmarshalResult(out []byte, v any) error {
	var env testEnvelope
	if err := json.Unmarshal(out, &env); err != nil {
		return err
	}
	if env.Result == nil || string(env.Result) == "null" {
		return fmt.Errorf("result is null (error %+v)", env.Error)
	}
	return json.Unmarshal(env.Result, v)
}
