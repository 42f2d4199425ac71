// Package egress is the harness's one way out: the HTTP client factory that
// every request (confirms, token fetches, contract cases, shards) goes
// through, so that the safety rules hold where the traffic happens and not
// only on configuration strings.
//
// A Gate
//   - refuses the production host family (xone.ProductionHost and its
//     subdomains, in any spelling that maps to it under the UTS #46 lookup
//     profile: full-width dots, full-width letters, ideographic full stops,
//     upper case, a trailing dot) unless production is allowed, per request,
//     in the proxy choice and at dial time, so that neither a proxy, a
//     redirect nor a token URL walks around it;
//   - never follows a redirect (a 3xx is an answer);
//   - holds every send that does not go to a loopback address under a hard
//     rate ceiling: no window of one second, wherever it starts, holds more
//     than floor(MaxRate) sends, whatever the caller's pacing does. A request
//     is loopback only when no proxy carries it and every address its host
//     resolves to is loopback (the gate dials only those addresses).
//
// Use:
//
//	g, err := egress.New(egress.Config{MaxRate: 20, Proxy: proxyFunc})
//	if err != nil {
//		return err
//	}
//	if err := g.Check(baseURL); err != nil {
//		return err // production refused: exit 2 before any traffic
//	}
//	client := g.Client(30 * time.Second)
//
// A caller that tunes its own transport starts from g.Transport() and sends
// through g.ClientFor(tr, timeout, stop).
package egress
