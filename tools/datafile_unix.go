//go:build unix

package tools

import "syscall"

// openNonBlocking opens a FIFO at once instead of waiting for a writer, so that openDataFile can
// look at what it opened before anything can block; regular files read the same with it.
const openNonBlocking = syscall.O_NONBLOCK
