package sigv4

import (
	"strings"
	"testing"
)

func TestRegionFromURL(t *testing.T) {
	tests := []struct {
		url    string
		want   string
		wantOK bool
	}{
		{"https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "us-west-2", true},
		{"https://aps-workspaces-fips.us-east-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "us-east-2", true},
		{"https://aps-workspaces.eu-central-1.api.aws/workspaces/ws-1/api/v1/remote_write", "eu-central-1", true},
		{"https://aps-workspaces-fips.us-gov-west-1.api.aws/workspaces/ws-1/api/v1/remote_write", "us-gov-west-1", true},
		{"https://aps-workspaces.cn-north-1.amazonaws.com.cn/workspaces/ws-1/api/v1/remote_write", "cn-north-1", true},
		{"https://vpce-0abc-xyz.aps-workspaces.us-west-2.vpce.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "us-west-2", true},
		{"https://APS-WORKSPACES.US-WEST-2.AMAZONAWS.COM:443/x", "us-west-2", true},
		{"https://aps.us-west-2.amazonaws.com/workspaces", "", false},
		{"https://aps-workspaces.us-west-2.example.com/", "", false},
		{"https://aps-workspaces.amazonaws.com/", "", false},
		{"https://aps-workspaces.notaregion.amazonaws.com/", "", false},
		{"http://localhost:9095/workspaces/ws-1/api/v1/remote_write", "", false},
		{"aps-workspaces.us-west-2.amazonaws.com/workspaces", "", false},
		{"://bad", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := RegionFromURL(tt.url)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RegionFromURL(%q) = %q, %v; want %q, %v", tt.url, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSigning(t *testing.T) {
	const amp = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
	for _, tc := range []struct {
		name, url, region string
		force             bool
		wantRegion        string
		wantSign          bool
		wantErr           string
	}{
		{"AMP URL: signed for its region", amp, "", false, "us-west-2", true, ""},
		{"AMP URL, same region given", amp, "us-west-2", false, "us-west-2", true, ""},
		{"AMP URL, forced", amp, "", true, "us-west-2", true, ""},
		{"AMP URL, another region", amp, "eu-west-1", false, "", false, `region "eu-west-1" given, but the URL is an Amazon Managed Service for Prometheus workspace in "us-west-2"`},
		{"other URL: not signed", "http://127.0.0.1:9090/api/v1/write", "", false, "", false, ""},
		{"other URL with a region", "https://proxy.example/api/v1/write", "eu-west-1", false, "eu-west-1", true, ""},
		{"other URL forced: the AWS config's region", "https://proxy.example/api/v1/write", "", true, "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			region, sign, err := Signing(tc.url, tc.region, tc.force)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || region != tc.wantRegion || sign != tc.wantSign {
				t.Errorf("Signing = %q, %v, %v; want %q, %v", region, sign, err, tc.wantRegion, tc.wantSign)
			}
		})
	}
}
