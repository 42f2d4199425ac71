package egress

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"

	"golang.org/x/net/http/httpproxy"
)

// TLSConfig returns the TLS client configuration for Config.TLS: the CA
// certificates of the PEM file caFile trusted besides the system pool, and
// with insecure any certificate accepted (testing only: anyone on the path
// can read what is sent). Both unset, it returns nil (the defaults). Errors
// name the file.
func TLSConfig(caFile string, insecure bool) (*tls.Config, error) {
	if caFile == "" && !insecure {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// ProxyFromEnv is the proxy choice for Config.Proxy of the environment
// getenv reads (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, or their lower-case
// forms; REQUEST_METHOD set means CGI, where HTTP_PROXY is ignored), like
// http.ProxyFromEnvironment but read when called rather than once per
// process.
func ProxyFromEnv(getenv func(string) string) func(*url.URL) (*url.URL, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return (&httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}).ProxyFunc()
}

// UntrustedCert reports whether err comes from a server certificate the
// client does not trust: an unknown authority (self-signed), another host's
// name, or an invalid certificate.
func UntrustedCert(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
