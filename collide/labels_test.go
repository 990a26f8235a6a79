package collide

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rwkit/rwkit/wire"
)

func TestLabelsJSON(t *testing.T) {
	ls := Labels{{Name: "__name__", Value: "up"}, {Name: "env", Value: `"prod"`}, {Name: "z", Value: "ü"}}
	b, err := json.Marshal(ls)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"__name__":"up","env":"\"prod\"","z":"ü"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var got Labels
	if err := json.Unmarshal([]byte(`{"z":"ü","__name__":"up","env":"\"prod\""}`), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ls, got); diff != "" {
		t.Errorf("Unmarshal sorts by name (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`["up"]`), &got); err == nil {
		t.Error("Unmarshal of an array: no error")
	}
}

// TestReportJSON: a Report survives its own JSON, which is what rwkit
// collide --output json prints and scripts decode.
func TestReportJSON(t *testing.T) {
	threads := series("jvm_threads_live_threads")
	r := Find([]Writer{
		{Name: "auth", Source: "auth.txt", Families: 2, Labels: Labels{{Name: "env", Value: "prod"}},
			Series: []wire.TimeSeries{threads, series("up"), series("up")}, Note: "gather: duplicate series"},
		{Name: "bff", Service: "bff", Series: []wire.TimeSeries{threads}},
	})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, &got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Result != ResultCollisions || len(got.Duplicates) != 1 || got.Writers[0].Note == "" {
		t.Errorf("report %s", b)
	}
}
