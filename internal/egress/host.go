package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// ErrProduction is returned (wrapped) for a request, a dial or a configured
// URL whose host belongs to the production host family while production
// traffic is not allowed.
var ErrProduction = errors.New("production host refused: production traffic is not allowed")

// ErrBadHost is returned (wrapped) for a host that has no ASCII form under
// the UTS #46 lookup mapping: the gate cannot tell where it leads, so it
// never sends there.
var ErrBadHost = errors.New("host name has no valid ASCII form")

// CanonicalHost returns host (without port or brackets) the way it is looked
// up and dialled: non-ASCII names are mapped with the UTS #46 lookup profile
// of golang.org/x/net/idna (the mapping net/http applies before dialling, so
// full-width dots and letters and ideographic full stops become ASCII), then
// lower-cased, with trailing dots removed. An unmappable name returns an
// error wrapping ErrBadHost.
func CanonicalHost(host string) (string, error) {
	h := host
	if strings.ContainsFunc(h, func(r rune) bool { return r >= utf8.RuneSelf }) {
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("egress: host %q: %w: %w", host, ErrBadHost, err)
		}
		h = a
	}
	return strings.TrimRight(strings.ToLower(h), "."), nil
}

// IsProduction reports whether host (as CanonicalHost returns it) is the
// production host xone.ProductionHost or one of its subdomains.
func IsProduction(canonical string) bool {
	return canonical == xone.ProductionHost || strings.HasSuffix(canonical, "."+xone.ProductionHost)
}

// LiteralLoopback reports whether host (without port; brackets allowed) is a
// loopback IP literal or exactly "localhost": the names that an environment
// proxy never carries, so that a plan can treat them as loopback without
// dialling. Other names ("foo.localhost") are loopback only when the gate
// dials them on a loopback address (Gate.Loopback).
func LiteralLoopback(host string) bool {
	h, err := CanonicalHost(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkHost refuses unmappable hosts and, unless allowProduction, the
// production host family. It returns the canonical host.
func checkHost(host string, allowProduction bool) (string, error) {
	h, err := CanonicalHost(host)
	if err != nil {
		return "", err
	}
	if !allowProduction && IsProduction(h) {
		return "", fmt.Errorf("egress: %s: %w", h, ErrProduction)
	}
	return h, nil
}
