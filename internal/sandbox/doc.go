// Package sandbox is the embedded XONE sandbox: an in-process fake of the XCover XONE
// token endpoint and of the Confirm offer endpoint, which the harness starts itself when
// no target is configured (no --base-url / XONE_BASE_URL), which `xoneharness sandbox`
// serves on its own, and which tests use as a hermetic target.
//
// # Endpoints
//
//	POST /api/oauth/token
//	    Client-credentials grant. The body is JSON {"grant_type","client_id","client_secret"}
//	    (XONE's style); form-encoded bodies and HTTP Basic credentials are accepted too.
//	    200 {"access_token","token_type":"Bearer","expires_in":<seconds>,"scope"}.
//	    Wrong credentials: 401 {"message":"Invalid client credentials.",...}; a grant type
//	    other than client_credentials: 400; an unreadable body: 400. The scope request
//	    parameter is ignored: ClientID gets offers:update, ReadOnlyClientID offers:view.
//	POST /api/partners/{partner_id}/offers/{offer_id}/confirm
//	    Any partner id; any UUID offer id is an existing offer (offers are generated).
//	    200 {"data":{...}}: a realistic booking that validates against the corrected
//	        document, echoing offer_id, the first quote id (quote.uuid) and the policyholder.
//	    401 {"message":"Unauthenticated."} for a missing, malformed, expired or
//	        read-only token, with Cloudflare-like headers (CF-RAY, Cf-Team, ...).
//	    404 {"message":"Offer not found."} for an offer id that is not a UUID.
//	    422 {"type":"validation_error","message":"The given data was invalid.","errors":{...}}
//	        for an invalid body. Like Laravel, a body that is not application/json or is not
//	        valid JSON counts as empty input, so malformed JSON is a 422 ("The quotes field is
//	        required."), not a 400. Required: quotes (non-empty array), quotes.*.id,
//	        policyholder with first_name, last_name and a valid email; strings at most 255
//	        characters. Keys match exactly (case-sensitive), the last duplicate key wins,
//	        null counts as absent, and a value of the wrong type is an error for its field.
//	    422 {"message":"Booking already exists for offer <id>."} for a second confirm,
//	        simultaneous or not: the lookup and the insert of an offer happen under one
//	        lock, so N confirms of one offer released together book it exactly once.
//	    413 for bodies over 1 MiB.
//	    Processing order: reading the body, latency and stall, connection reset,
//	    undocumented-500 drift, token (401), throttling (429), injected 5xx, offer id (404),
//	    body (413, 422), duplicate (422), booking (200). Every confirm answer carries the
//	    Cloudflare-like headers (Date, Cache-Control, Vary, X-Content-Type-Options,
//	    X-XSS-Protection, Strict-Transport-Security, CF-Cache-Status, Server, Cf-Team).
//	GET /healthz  200 {"status":"ok"}.   Anything else: 404 JSON; wrong method: 405 JSON.
//
// # Correlation headers
//
// Every answer, of every route and status (200, 4xx, 401, 429, 5xx, the token endpoint
// too), carries two headers a client can quote and compute with:
//
//	CF-RAY: 8a1b2c3d4e5f6789-SYD
//	    Cloudflare's shape: 16 lower-case hex digits, "-" and the data-centre code.
//	    Unique per answer of one sandbox (a bijection of the answer's number; under
//	    Seed the same arrival order gives the same rays).
//	Server-Timing: recv;desc="1733523296123456", app;dur=0.412
//	    recv is when the whole request had arrived, in Unix microseconds: confirm and
//	    token take it once the body is read, so a request whose last byte was held back
//	    (last-byte synchronisation) arrives when that byte does; the spread of recv over
//	    simultaneous requests is their true arrival spread. app is the time from recv to
//	    the status line, in milliseconds, injected latency included. Both read the Clock
//	    option's clock.
//
// Latency, Stall, ErrorRate, ThrottleRate and ResetRate apply to confirm only;
// TokenLatency and TokenFailRate to the token endpoint. Injected faults never book.
// Drift modes (DriftModes) break the contract in one named way each, and combine; one,
// racy-double-book, opens a check-then-act window of a few milliseconds between the
// lookup and the insert, so that only simultaneous confirms of one offer double-book.
// EveryMember makes the answers carry every member the document lists (for coverage).
//
// # Concurrency and cost
//
// Every method and the handler are safe for concurrent use. Tokens are HMAC-signed and
// verified without shared state; confirmed offers live in one map under one mutex (16
// bytes per booking, kept for the life of the Server); counters are atomics; the request
// body is decoded once with encoding/json, and the 200 body is a struct marshalled by
// encoding/json. Randomness is a per-request splitmix64 stream derived from the seed and
// the request's arrival number. A confirm costs tens of microseconds of CPU
// (BenchmarkConfirmParallel): far below what any load generator sends it.
//
// # Use in Go tests
//
//	func TestConfirm(t *testing.T) {
//		sb := sandbox.StartTB(t, sandbox.Seed(1), sandbox.Latency(5*time.Millisecond))
//		tok := sb.MintToken(sandbox.ClientID, 0)
//		url := sb.URL() + "/api/partners/" + sandbox.PartnerID + "/offers/" + offerID + "/confirm"
//		// ... POST with "Authorization: Bearer "+tok, then check sb.Stats().Confirmed
//	}
//
// A contract test of the drift detection:
//
//	sb := sandbox.StartTB(t, sandbox.Drift("price-as-string", "html-401"))
//
// Without a listener (httptest, benchmarks):
//
//	sb, err := sandbox.New(sandbox.Seed(1))
//	if err != nil { ... }
//	srv := httptest.NewServer(sb.Handler())
//
// # The xoneharness sandbox command
//
// `xoneharness sandbox --addr 127.0.0.1:8080 [--latency 20ms] [--drift price-as-string]`
// calls Start with Addr and the flag-derived options, prints URL and TokenURL, and Closes
// on SIGINT/SIGTERM; `xoneharness run` without a base URL does the same in-process on
// 127.0.0.1:0 and points the contract suite and the load engine at URL().
//
// # curl
//
//	BASE=http://127.0.0.1:8080
//	TOKEN=$(curl -s -X POST $BASE/api/oauth/token -H 'Content-Type: application/json' \
//	  -d '{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}' \
//	  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
//	curl -s -X POST "$BASE/api/partners/SANDBOX-PARTNER/offers/$(uuidgen)/confirm" \
//	  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
//	  -d '{"quotes":[{"id":"5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f"}],
//	       "policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com",
//	       "phone":"+61400000000","country":"AU","address1":"1 George St","city":"Sydney",
//	       "region":"NSW","postcode":"2000"}}'
//	curl -si -X POST "$BASE/api/partners/SANDBOX-PARTNER/offers/$(uuidgen)/confirm"   # 401
//
// The credentials above are public demo values; the harness still never prints the
// tokens, security_token values or policyholder contact details it handles.
package sandbox
