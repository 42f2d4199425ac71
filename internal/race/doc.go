// Package race sends a group of identical requests so that they arrive at
// the target together: the transport of the race check, shared by the
// contract suite (concurrent-confirm) and the load engine (race groups).
//
// A check-then-act race needs confirms that arrive within a millisecond of
// each other; a barrier before writing whole requests spreads them over the
// scheduler's jitter instead. Open opens one connection per send through
// Conns (the egress gate: host rules, TLS, and Admit, which counts the group
// against the rate ceiling as one), and Send releases them by last-byte
// synchronisation: each request, serialised by net/http, is written but for
// its last byte, and the last bytes are written together after a barrier;
// the answers are read with http.ReadResponse. Where a proxy carries the
// requests, the group falls back to ordinary requests released by a barrier,
// and says so (Outcome.Fallback). The Outcome gives the spread of the final
// writes and, when the target answers with Server-Timing recv, of the
// arrivals it saw.
//
// Judging the answers and recording them belong to the caller: a caller
// that journals its sends does so between Open and Send, once the
// connections are ready and before any byte of the group leaves.
//
// Use:
//
//	g, err := race.Open(ctx, gate, client, confirmURL, race.DefaultN)
//	if err != nil {
//		return err // nothing sent
//	}
//	defer g.Close()
//	// journal the N confirms here
//	out := g.Send(ctx, race.Request{URL: confirmURL, Header: h, Body: body}, 10*time.Second)
//	for _, a := range out.Attempts {
//		// a.Response, a.Body, or a.Err
//	}
package race
