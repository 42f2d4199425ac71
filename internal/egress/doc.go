// Package egress is the harness's one way out: the HTTP client factory that
// every request (confirms, token fetches, contract cases, shards) goes
// through, so that the safety rules hold where the traffic happens and not
// only on configuration strings. TLSConfig and ProxyFromEnv build a Config's
// TLS and proxy settings from a CA file and an environment.
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
//     rate ceiling for the whole job, all shards together: no window of one
//     second, wherever it starts, holds more than floor(MaxRate) sends (below
//     1/s: one send per 1/MaxRate seconds), whatever the callers' pacing
//     does. A request is loopback only when no proxy carries it and every
//     address its host resolves to is loopback (the gate dials only those
//     addresses).
//
// # The ceiling
//
// Sends are spaced evenly, one per slot of 1/floor(MaxRate) seconds (below
// 1/s, 1/MaxRate), each slot starting when the previous one ends.
//
// Sharded (Config.Shard with Count N > 1), the N processes of a job share the
// ceiling without talking to each other: slots lie on a grid of the wall
// clock (Unix time), slot k belongs to shard k mod N, and a shard sends only
// at the start of its own slots, so shards started at any moments take
// turns. Each slot is lengthened by a guard, MaxClockSkew, for the hosts'
// clock differences and the jitter between a send's release and its arrival
// (a loaded machine, a new connection's handshake): (1 s +
// MaxClockSkew)/floor(MaxRate) (below 1/s, 1/MaxRate + MaxClockSkew), about
// 2.4% fewer sends (at 20/s, 51.25 ms slots: 19.5 sends per second). With
// clocks within MaxClockSkew the ceiling holds exactly; beyond it, each
// further slot length of skew lets at most one more send into a window, and
// however large the skew, a window of single sends never holds more than
// floor(MaxRate) + N - 1. A clock stepped by NTP is such a skew while it
// lasts.
//
// A group of n sends released together (Gate.Admit, a race check) reserves
// 2n-1 of the gate's slots with the group's instant in the middle one, so
// that every window around the instant still holds n slots that no one else
// uses; a group above MaxGroup (floor(MaxRate)/N, at least 1) could never be
// released without breaking a window and is refused.
//
// The ceiling is on the instants the gate releases sends; the far side sees
// them with the network's jitter. A waiter that gives up keeps its slot, and
// a new gate treats the time before it as used: the ceiling only ever errs on
// the side of fewer sends.
//
// Use:
//
//	g, err := egress.New(egress.Config{MaxRate: 20, Shard: egress.Shard{Index: i, Count: n}, Proxy: proxyFunc})
//	if err != nil {
//		return err
//	}
//	if err := g.Check(baseURL); err != nil {
//		return err // production refused: exit 2 before any traffic
//	}
//	client := g.Client(30 * time.Second)
//
// A caller that tunes its own transport starts from g.Transport() and sends
// through g.ClientFor(tr, timeout, stop). A caller that writes requests
// itself opens connections with g.Conn and counts its sends with g.Admit.
package egress
