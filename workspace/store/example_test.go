package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)

	s, err := store.Open(dir, store.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	t, err := s.Tenant("ws-1")
	if err != nil {
		panic(err)
	}
	up := []wire.Label{{Name: "__name__", Value: "up"}, {Name: "service", Value: "auth"}}
	const ts = 1704067200000 // 2024-01-01T00:00:00Z

	app := t.Appender(context.Background())
	_ = app.Append(up, ts, 1)
	_ = app.Commit()

	// A second writer sends another value for the same series and time.
	app = t.Appender(context.Background())
	var ae *store.AppendError
	if err := app.Append(up, ts, 0); errors.As(err, &ae) {
		fmt.Printf("refused: %s (existing %g, new %g)\n", ae.Reason, ae.Existing, ae.New)
	}
	_ = app.Commit()

	h := s.APIHandler(nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/workspaces/ws-1/api/v1/query?query=up&time=1704067200", nil))
	body, _ := io.ReadAll(rec.Body)
	fmt.Println(rec.Code, string(body))
	// Output:
	// refused: new-value-for-timestamp (existing 1, new 0)
	// 200 {"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","service":"auth"},"value":[1704067200,"1"]}]}}
}
