package egress

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSConfig checks the configurations against a loopback TLS server
// with a self-signed certificate: the judge is a real handshake, and
// UntrustedCert must recognise the failure of the default configuration.
func TestTLSConfig(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	caFile := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	notPEM := write("offers.csv", []byte("offer_id,quote_id\no-1,q-1\n"))
	missing := filepath.Join(dir, "no-ca.pem")
	tests := []struct {
		name      string
		caFile    string
		insecure  bool
		wantNil   bool   // the defaults
		wantErr   string // "" builds
		wantTrust bool   // a handshake with the server succeeds
	}{
		{name: "defaults", wantNil: true},
		{name: "ca file", caFile: caFile, wantTrust: true},
		{name: "insecure", insecure: true, wantTrust: true},
		{name: "ca file and insecure", caFile: caFile, insecure: true, wantTrust: true},
		{name: "missing ca file", caFile: missing, wantErr: "open " + missing},
		{name: "not a certificate", caFile: notPEM, insecure: true, wantErr: notPEM + " holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := TLSConfig(tt.caFile, tt.insecure)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Nil(t, tc)
				return
			}
			require.NoError(t, err)
			if tt.wantNil {
				assert.Nil(t, tc, "got a configuration, want nil (the defaults)")
			} else {
				require.NotNil(t, tc)
				assert.Equal(t, tt.insecure, tc.InsecureSkipVerify)
			}
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
			resp, err := client.Get(srv.URL)
			if err == nil {
				_ = resp.Body.Close()
			}
			assert.Equal(t, tt.wantTrust, err == nil, "got handshake error %v", err)
			assert.Equal(t, !tt.wantTrust, UntrustedCert(err), "UntrustedCert(%v)", err)
		})
	}
}

func TestUntrustedCertOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("connection refused"), fmt.Errorf("token: %w", os.ErrDeadlineExceeded)} {
		assert.False(t, UntrustedCert(err), "UntrustedCert(%v): got true, want false", err)
	}
}

func TestProxyFromEnv(t *testing.T) {
	const proxy, other = "http://proxy.test:3128", "http://other.test:8080"
	tests := []struct {
		name string
		env  map[string]string
		url  string
		want string // "" is a direct connection; "error" an error
	}{
		{"no proxy set", nil, "https://partner.test/x", ""},
		{"https proxy", map[string]string{"HTTPS_PROXY": proxy}, "https://partner.test/x", proxy},
		{"lower case", map[string]string{"https_proxy": proxy}, "https://partner.test/x", proxy},
		{"upper case wins", map[string]string{"HTTPS_PROXY": proxy, "https_proxy": other}, "https://partner.test/x", proxy},
		{"http proxy for http only", map[string]string{"HTTP_PROXY": proxy}, "https://partner.test/x", ""},
		{"http proxy", map[string]string{"HTTP_PROXY": proxy}, "http://partner.test/x", proxy},
		{"no_proxy", map[string]string{"HTTPS_PROXY": proxy, "NO_PROXY": "partner.test"}, "https://partner.test/x", ""},
		{"no_proxy elsewhere", map[string]string{"HTTPS_PROXY": proxy, "no_proxy": "other.test"}, "https://partner.test/x", proxy},
		{"CGI refuses HTTP_PROXY", map[string]string{"HTTP_PROXY": proxy, "REQUEST_METHOD": "GET"}, "http://partner.test/x", "error"},
		{"loopback is direct", map[string]string{"HTTP_PROXY": proxy}, "http://127.0.0.1:8080/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			got, err := ProxyFromEnv(func(k string) string { return tt.env[k] })(u)
			gotS := ""
			if err != nil {
				gotS = "error"
			} else if got != nil {
				gotS = got.String()
			}
			assert.Equal(t, tt.want, gotS, "got proxy %q, want %q", gotS, tt.want)
		})
	}
}
