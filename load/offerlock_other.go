//go:build !unix

package load

// LockOffers is a no-op where flock is not available: an offers file is not
// protected from a second process there.
func LockOffers(path, reportDir string, sh Shard) (release func() error, err error) {
	return func() error { return nil }, nil
}
