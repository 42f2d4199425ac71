//go:build !unix

package fsx

// NoFollow is the open flag that refuses a symbolic link as the last path
// element (O_NOFOLLOW); 0 where the platform has none.
const NoFollow = 0
