package pbiclient

import "time"

const (
	minPoll = time.Second
	maxPoll = 30 * time.Second
)

// pollDelay is the wait before status poll n+1 of a long-running operation: the service's
// hint (Retry-After) when it gave one, else exponential from minPoll. It stays within
// [minPoll, maxPoll] so that a zero hint cannot make a busy loop and a long estimate cannot
// hide an early completion.
func pollDelay(n int, hint time.Duration) time.Duration {
	if hint <= 0 {
		hint = minPoll << min(n, 5)
	}
	return min(max(hint, minPoll), maxPoll)
}
