package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseResourceAttributes(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      map[string]string
		wantNotes []string
	}{
		{"empty", "", map[string]string{}, nil},
		{"one", "service.name=auth", map[string]string{"service.name": "auth"}, nil},
		{"two", "service.name=auth,service.instance.id=a-1",
			map[string]string{"service.name": "auth", "service.instance.id": "a-1"}, nil},
		{"spaces around keys and values", " service.name = auth , deployment.environment=int ",
			map[string]string{"service.name": "auth", "deployment.environment": "int"}, nil},
		{"percent-encoded", "service.name=auth%20service,team=platform%2Cobs,expr=a%3Db",
			map[string]string{"service.name": "auth service", "team": "platform,obs", "expr": "a=b"}, nil},
		{"encoded spaces survive trimming", "k=%20v%20", map[string]string{"k": " v "}, nil},
		{"plus is not a space", "k=a+b", map[string]string{"k": "a+b"}, nil},
		{"UTF-8", "service.name=%C3%A9t%C3%A9", map[string]string{"service.name": "été"}, nil},
		{"equals in value", "k=a=b", map[string]string{"k": "a=b"}, nil},
		{"empty value", "service.name=", map[string]string{"service.name": ""}, nil},
		{"trailing and double commas", "a=1,,b=2,", map[string]string{"a": "1", "b": "2"}, nil},
		{"last duplicate wins", "k=1,k=2", map[string]string{"k": "2"}, nil},
		{"keys are not decoded", "a%2Eb=1", map[string]string{"a%2Eb": "1"}, nil},
		{"no equals", "service.name=auth,broken,x=1",
			map[string]string{"service.name": "auth", "x": "1"}, []string{`pair 2 "broken" (no "=")`}},
		{"empty key", "=v,a=1", map[string]string{"a": "1"}, []string{`pair 1 "=v" (empty key)`}},
		{"bad escape", "a=%zz,service.name=auth", map[string]string{"service.name": "auth"},
			[]string{`pair 1 "a=%zz" (invalid URL escape "%zz")`}},
		{"truncated escape", "a=%4", map[string]string{}, []string{`pair 1 "a=%4" (invalid URL escape "%4")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes := parseResourceAttributes(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("attrs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNotes, notes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResourceAttributesInTried(t *testing.T) {
	id, err := Resolve(context.Background(), Options{
		Getenv: env(map[string]string{
			EnvOTelResourceAttributes: "service.name=auth%20svc,broken,service.instance.id=",
		}),
		Hostname:   hostname("h"),
		DisableECS: true, DisableKubernetes: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `env OTEL_RESOURCE_ATTRIBUTES: service.name: service "auth svc", service.instance.id blank, ignored, ignored pair 2 "broken" (no "=")`
	if got := triedLine(id.Tried, "env OTEL_RESOURCE_ATTRIBUTES: "); got != want {
		t.Errorf("Tried line\n got %s\nwant %s", got, want)
	}
	if id.Instance.Source != "hostname" {
		t.Errorf("blank service.instance.id was used: %+v", id.Instance)
	}
	if !strings.Contains(id.String(), `service="auth svc" (env OTEL_RESOURCE_ATTRIBUTES service.name)`) {
		t.Errorf("String() = %s", id)
	}
}
