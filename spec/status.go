package spec

// Documents reports whether the confirm operation documents status: an exact
// code, a range such as "4XX", or a default response. A status it does not
// document is an error class of its own for the callers, never a schema
// violation. Safe for concurrent use.
func (s *Spec) Documents(status int) bool {
	return status >= 100 && status <= 999 && s.responseFor(status) != nil
}
