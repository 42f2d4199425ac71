// Package auth gets and caches bearer tokens for the XONE API with the OAuth2 client-credentials
// grant, and scrubs secrets from anything the harness prints.
//
// XONE's token endpoint takes a JSON body, which golang.org/x/oauth2/clientcredentials cannot send;
// [Source] sends it (StyleJSON, the default) or the usual form body (StyleForm, StyleBasic), and
// accepts a JSON or a form-encoded answer. Caching is x/oauth2's ReuseTokenSourceWithExpiry; on top
// of it a Source adds a per-fetch timeout, a refresh margin capped for short-lived tokens,
// [Source.Invalidate] for a 401, [Source.Prefetch] so callers never wait on the endpoint, [Stats],
// and errors ([FetchError], [ErrUnreachable], [ErrRejected]) that describe an answer by status,
// content type and length, never by its body.
//
// [Redactor] removes the client secret and tokens in every form they take ([Forms]), "Bearer xxx"
// and "Basic xxx" credentials, URL userinfo and sensitive JSON members (xone.SensitiveKey) from
// text, headers and bodies. A Source registers its client secret and every token it learns, from
// any answer in any format, with its Redactor before anything can print them. [ReadSecretFile] and
// [CheckSecret] refuse secrets too short to redact safely.
//
//	red := auth.NewRedactor() // one per process: every output goes through it
//	src, err := auth.New(auth.Config{TokenURL: baseURL + "/api/oauth/token",
//		ClientID: id, ClientSecret: secret, Redactor: red})
//	if err != nil {
//		return err // names the missing field
//	}
//	go src.Prefetch(ctx) // optional: refresh ahead of expiry
//	tok, err := src.Token() // errors.Is(err, auth.ErrUnreachable): infrastructure failure
//	...
//	req.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
//	if resp, err := client.Do(req); err == nil && resp.StatusCode == http.StatusUnauthorized {
//		src.Invalidate(tok) // the next Token call fetches a new one, once
//	}
//	log.Print(red.String(string(body)))
package auth
