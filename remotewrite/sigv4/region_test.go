package sigv4

import "testing"

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
