package sigv4_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

func ExampleNew() {
	// A stand-in for AMP that reports what it sees.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		fmt.Println(strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), strings.Contains(auth, "/us-west-2/aps/aws4_request"))
		fmt.Println(r.Header.Get("X-Amz-Content-Sha256") != "")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	region, ok := sigv4.RegionFromURL("https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123/api/v1/remote_write")
	fmt.Println(region, ok)

	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")
	tr, err := sigv4.New(region, creds)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr)
	client := &http.Client{Transport: tr}
	resp, err := client.Post(srv.URL+"/workspaces/ws-123/api/v1/remote_write", "application/x-protobuf", strings.NewReader("body"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// us-west-2 true
	// sigv4.Transport{service: aps, region: us-west-2, credentials: *aws.CredentialsCache}
	// true true
	// true
	// 204 No Content
}
