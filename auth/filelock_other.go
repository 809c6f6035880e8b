//go:build !unix && !windows

package auth

import "os"

// lockFile on systems without flock or LockFileEx (none the project ships
// for) only creates the file: this process's own lock still serialises its
// token caches, and writes stay atomic through rename.
func lockFile(path string, exclusive bool) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
