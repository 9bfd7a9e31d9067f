package transport

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Counter counts HTTP requests for a run, across servers. Every attempt is
// one request: it counts as a read, a write or an auth call (token and
// client registration), and additionally as a retry when it is not the
// first attempt of its call. Safe for concurrent use; the zero value is
// ready.
type Counter struct {
	reads, writes, auth, retries, rateLimited, transportErrors atomic.Int64

	mu       sync.Mutex
	byStatus map[int]int64
}

// CallCounts is a point-in-time copy of a Counter.
type CallCounts struct {
	Reads           int64
	Writes          int64
	Auth            int64 // DCR registrations and token requests
	Retries         int64 // attempts after the first (incl. replays after a 401), included in the three above
	RateLimited     int64 // responses with 429
	TransportErrors int64 // attempts without an HTTP response
	ByStatus        map[int]int64
}

// Total is the number of HTTP requests sent.
func (c CallCounts) Total() int64 { return c.Reads + c.Writes + c.Auth }

// Snapshot copies the counts.
func (c *Counter) Snapshot() CallCounts {
	c.mu.Lock()
	by := maps.Clone(c.byStatus)
	c.mu.Unlock()
	if by == nil {
		by = map[int]int64{}
	}
	return CallCounts{
		Reads:           c.reads.Load(),
		Writes:          c.writes.Load(),
		Auth:            c.auth.Load(),
		Retries:         c.retries.Load(),
		RateLimited:     c.rateLimited.Load(),
		TransportErrors: c.transportErrors.Load(),
		ByStatus:        by,
	}
}

type category int

const (
	categoryRead category = iota
	categoryWrite
	categoryAuth
)

func (c *Counter) record(cat category, retry bool, status int) {
	switch cat {
	case categoryRead:
		c.reads.Add(1)
	case categoryWrite:
		c.writes.Add(1)
	case categoryAuth:
		c.auth.Add(1)
	}
	if retry {
		c.retries.Add(1)
	}
	switch status {
	case 0:
		c.transportErrors.Add(1)
		return
	case 429:
		c.rateLimited.Add(1)
	}
	c.mu.Lock()
	if c.byStatus == nil {
		c.byStatus = map[int]int64{}
	}
	c.byStatus[status]++
	c.mu.Unlock()
}
