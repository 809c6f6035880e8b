//go:build !unix

package tools

// openNonBlocking is 0 where opening a file cannot wait for another process (Windows).
const openNonBlocking = 0
