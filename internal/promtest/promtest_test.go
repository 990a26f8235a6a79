package promtest

import (
	"context"
	"testing"
	"time"
)

func TestStartAndQuery(t *testing.T) {
	s := Start(t)
	got, err := s.Query(context.Background(), `vector(42)`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 42 {
		t.Fatalf("vector(42) = %+v, want one element with value 42", got)
	}
}
