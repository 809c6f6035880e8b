package pbitest

import "time"

// Faults makes the Power BI API misbehave on purpose. The zero value turns
// every fault off.
type Faults struct {
	ThrottleEvery    int           // every Nth Power BI API request answers 429 (with Retry-After)
	ThrottleFirst    int           // the first N Power BI API requests answer 429, then none (unless ThrottleEvery)
	RetryAfter       int           // seconds sent in Retry-After on those 429s (0 allowed)
	ServerErrorEvery int           // every Nth Power BI API request answers 500
	DropEvery        int           // every Nth Power BI API request: the connection is closed with no response
	Latency          time.Duration // added before every answer (Power BI and Entra)
}

// SetFaults replaces the fault settings. It may be called at any time. The
// "every Nth" and "first N" counters count Power BI API requests (not Entra ones) across all
// routes, starting from this call. When several knobs pick the same request,
// a drop wins over a 500, which wins over a 429.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.faultSeq = 0
	s.mu.Unlock()
}

type fault int

const (
	faultNone fault = iota
	faultDrop
	faultServerError
	faultThrottle
)

// nextFault counts one Power BI API request and says which fault, if any, it
// gets, with the settings that chose it.
func (s *Server) nextFault() (fault, Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	n, f := s.faultSeq, s.faults
	switch {
	case f.DropEvery > 0 && n%f.DropEvery == 0:
		return faultDrop, f
	case f.ServerErrorEvery > 0 && n%f.ServerErrorEvery == 0:
		return faultServerError, f
	case f.ThrottleEvery > 0 && n%f.ThrottleEvery == 0, n <= f.ThrottleFirst:
		return faultThrottle, f
	}
	return faultNone, f
}
