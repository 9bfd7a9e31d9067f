package sim

import (
	"net/http"
	"sync"
	"time"
)

// Stats is a snapshot of the counters of both servers. Calls to the
// control API (/_sim/...) are never counted.
type Stats struct {
	APIM ServerStats `json:"apim"`
	IS   ServerStats `json:"is"`
}

// Server returns the stats of "apim" or "is".
func (s Stats) Server(name string) ServerStats {
	if name == ServerIS {
		return s.IS
	}
	return s.APIM
}

// Total is the number of calls to both servers.
func (s Stats) Total() int64 { return s.APIM.Calls + s.IS.Calls }

// ServerStats counts the requests one server received.
type ServerStats struct {
	// Calls is every request, Writes every non-GET/HEAD/OPTIONS request.
	Calls  int64 `json:"calls"`
	Writes int64 `json:"writes"`
	// Routes counts calls per route, keyed "METHOD /pattern" as the
	// server's ServeMux matched it ("METHOD <unmatched>" for 404s).
	Routes map[string]int64 `json:"routes"`
	// Statuses counts responses per HTTP status; 0 is an injected
	// connection reset, 499 a client that gave up waiting behind the
	// concurrency cap.
	Statuses map[int]int64 `json:"statuses"`
	// RouteStatuses counts responses per route and status.
	RouteStatuses map[string]map[int]int64 `json:"routeStatuses"`
	// InFlight is the number of requests being served now; MaxInFlight the
	// highest number seen; Waited how many requests queued behind the
	// concurrency cap.
	InFlight    int64 `json:"inFlight"`
	MaxInFlight int64 `json:"maxInFlight"`
	Waited      int64 `json:"waited"`
	// Faults counts what the fault middleware injected.
	Faults FaultStats `json:"faults"`
}

// Route is the number of calls to "METHOD /pattern".
func (s ServerStats) Route(pattern string) int64 { return s.Routes[pattern] }

// FaultStats counts injected faults.
type FaultStats struct {
	Delayed    int64    `json:"delayed"`
	DelayTotal Duration `json:"delayTotal"`
	Status5xx  int64    `json:"5xx"`
	Status429  int64    `json:"429"`
	Resets     int64    `json:"resets"`
	// AfterCommit counts post-commit faults (the change was made, then the
	// client saw a 5xx, a reset or a timeout); Half the half-failures.
	AfterCommit int64 `json:"afterCommit"`
	Half        int64 `json:"half"`
}

// LogEntry is one request in the in-memory request log. It never holds
// bodies, query strings or headers (so no Authorization values).
type LogEntry struct {
	Time       time.Time `json:"time"`
	Server     string    `json:"server"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Route      string    `json:"route"`
	Status     int       `json:"status"`
	DurationMS float64   `json:"durationMs"`
	Fault      string    `json:"fault,omitempty"`
}

// DefaultLogSize is how many requests the log keeps unless Options.LogSize
// says otherwise.
const DefaultLogSize = 1000

type counters struct {
	mu    sync.Mutex
	stats map[string]*ServerStats
	log   []LogEntry // ring buffer
	next  int
	full  bool
}

func newCounters(logSize int) *counters {
	if logSize <= 0 {
		logSize = DefaultLogSize
	}
	c := &counters{log: make([]LogEntry, logSize)}
	c.resetLocked()
	return c
}

func newServerStats() *ServerStats {
	return &ServerStats{Routes: map[string]int64{}, Statuses: map[int]int64{},
		RouteStatuses: map[string]map[int]int64{}}
}

func (c *counters) resetLocked() {
	old := c.stats
	c.stats = map[string]*ServerStats{ServerAPIM: newServerStats(), ServerIS: newServerStats()}
	for name, s := range old { // in-flight requests are still in flight
		c.stats[name].InFlight = s.InFlight
	}
	clear(c.log)
	c.next, c.full = 0, false
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

func (c *counters) enter(server string, waited bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[server]
	s.InFlight++
	if s.InFlight > s.MaxInFlight {
		s.MaxInFlight = s.InFlight
	}
	if waited {
		s.Waited++
	}
}

func (c *counters) leave(server string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats[server].InFlight--
}

func (c *counters) delayed(server string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[server]
	s.Faults.Delayed++
	s.Faults.DelayTotal += Duration(d)
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func (c *counters) record(e LogEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[e.Server]
	s.Calls++
	if isWrite(e.Method) {
		s.Writes++
	}
	s.Routes[e.Route]++
	s.Statuses[e.Status]++
	rs := s.RouteStatuses[e.Route]
	if rs == nil {
		rs = map[int]int64{}
		s.RouteStatuses[e.Route] = rs
	}
	rs[e.Status]++
	switch e.Fault {
	case "5xx":
		s.Faults.Status5xx++
	case "429":
		s.Faults.Status429++
	case "reset":
		s.Faults.Resets++
	case "after-5xx", "after-reset", "after-timeout":
		s.Faults.AfterCommit++
	case "half":
		s.Faults.Half++
	}
	c.log[c.next] = e
	c.next++
	if c.next == len(c.log) {
		c.next, c.full = 0, true
	}
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := func(s *ServerStats) ServerStats {
		out := *s
		out.Routes = make(map[string]int64, len(s.Routes))
		for k, v := range s.Routes {
			out.Routes[k] = v
		}
		out.Statuses = make(map[int]int64, len(s.Statuses))
		for k, v := range s.Statuses {
			out.Statuses[k] = v
		}
		out.RouteStatuses = make(map[string]map[int]int64, len(s.RouteStatuses))
		for k, m := range s.RouteStatuses {
			mm := make(map[int]int64, len(m))
			for st, n := range m {
				mm[st] = n
			}
			out.RouteStatuses[k] = mm
		}
		return out
	}
	return Stats{APIM: cp(c.stats[ServerAPIM]), IS: cp(c.stats[ServerIS])}
}

// entries returns the log, oldest first; limit > 0 keeps the newest limit.
func (c *counters) entries(limit int) []LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []LogEntry
	if c.full {
		out = append(out, c.log[c.next:]...)
	}
	out = append(out, c.log[:c.next]...)
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}
