// Package auth gets and caches bearer tokens for the XONE API (OAuth2 client credentials) and
// scrubs secrets from anything the harness prints.
//
// XONE's token endpoint takes a JSON body, which golang.org/x/oauth2/clientcredentials cannot
// send: a [Source] sends JSON (the default) or a form body, reads a JSON or form answer and caches
// with x/oauth2's ReuseTokenSourceWithExpiry. A [Redactor] removes the client secret and tokens in
// every form they take ([Forms]), Bearer and Basic credentials, URL userinfo and sensitive JSON
// members; a Source registers its secret and every token it sees with it before anything can print
// them. Redactor.Writer is the writer every console stream goes through.
//
//	red := auth.NewRedactor() // one per process: every output goes through it
//	src, err := auth.New(auth.Config{TokenURL: baseURL + "/api/oauth/token",
//		ClientID: id, ClientSecret: secret, Redactor: red})
//	if err != nil {
//		return err // names the missing field
//	}
//	go src.Prefetch(ctx) // optional: refresh ahead of expiry
//	tok, err := src.Token() // errors.Is(err, auth.ErrUnreachable): infrastructure failure
//	req.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
//	// on a 401 answer: src.Invalidate(tok), and the next Token fetches a new one
//	log.Print(red.String(string(body)))
package auth
