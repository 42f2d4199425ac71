// Package sandbox is the embedded XONE sandbox: an in-process fake of the XCover XONE token
// endpoint and Confirm offer endpoint, which the harness starts when no target is configured,
// `xoneharness sandbox --addr` serves, and tests use as a hermetic target.
//
// # Endpoints
//
//	POST /api/oauth/token
//	    Client-credentials grant as a JSON body (XONE's style), a form body or HTTP Basic
//	    credentials. 200 {"access_token","token_type":"Bearer","expires_in","scope"}; wrong
//	    credentials 401; another grant type or an unreadable body 400. ClientID gets
//	    offers:update, ReadOnlyClientID offers:view.
//	POST /api/partners/{partner_id}/offers/{offer_id}/confirm
//	    Any partner id; any UUID offer id is an existing offer.
//	    200 {"data":{...}}: a realistic booking that validates against the corrected document,
//	        echoing offer_id, the first quote id (quote.uuid) and the policyholder.
//	    401 {"message":"Unauthenticated."} for a missing, malformed, expired or read-only token.
//	    404 for an offer id that is not a UUID; 413 for bodies over 1 MiB.
//	    422 {"type":"validation_error","message":...,"errors":{...}} for an invalid body. Like
//	        Laravel, a body that is not application/json or not valid JSON counts as empty input;
//	        required: quotes (non-empty), quotes.*.id, policyholder with first_name, last_name
//	        and a valid email; strings at most 255 characters; null counts as absent.
//	    422 {"message":"Booking already exists for offer <id>."} for a second confirm,
//	        simultaneous or not: N confirms of one offer released together book it once.
//	    Processing order: body, latency and stall, connection reset, undocumented-500 drift,
//	    token (401), throttling (429), injected 5xx, offer id (404), body (413, 422), duplicate
//	    (422), booking (200). Confirm answers carry Cloudflare-like headers (Date, Cache-Control,
//	    Vary, X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security,
//	    CF-Cache-Status, Server, Cf-Team).
//	GET /healthz  200 {"status":"ok"}.   Anything else: 404 JSON; wrong method: 405 JSON.
//
// Every answer of every route carries two correlation headers:
//
//	CF-RAY: 8a1b2c3d4e5f6789-SYD
//	    16 hex digits and the data-centre code, unique per answer (deterministic under Seed for
//	    one arrival order).
//	Server-Timing: recv;desc="1733523296123456", app;dur=0.412
//	    recv: when the request's last byte arrived, in Unix microseconds; app: milliseconds from
//	    recv to the status line, injected latency included.
//
// Latency, Stall, ErrorRate, ThrottleRate and ResetRate apply to confirm only; injected faults
// never book. Drift modes (DriftModes) each break the contract in one named way, and combine.
// Every method and the handler are safe for concurrent use; a booking costs 16 bytes for the life
// of the Server and tens of microseconds of CPU (BenchmarkConfirmParallel).
//
//	sb := sandbox.StartTB(t, sandbox.Seed(1), sandbox.Drift("price-as-string"))
//	tok := sb.MintToken(sandbox.ClientID, 0)
//	url := sb.URL() + "/api/partners/" + sandbox.PartnerID + "/offers/" + offerID + "/confirm"
//	// ... POST with "Authorization: Bearer "+tok, then check sb.Stats().Confirmed
//
// Without a listener: sb, err := sandbox.New(...); srv := httptest.NewServer(sb.Handler()).
//
// Knobs holds the same settings as plain values (what `xoneharness sandbox` binds its flags to):
// Knobs.Options checks them (a *KnobError names the knob) and CheckListenAddr refuses an address
// that would serve more than the one printed.
package sandbox
