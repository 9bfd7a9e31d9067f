package daemon

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Event types of GET /events.
const (
	EventPassStarted  = "pass-started"
	EventPassFinished = "pass-finished"
)

// Event is one server-sent event: a pass started or finished. It names
// the pass only; the page fetches what changed.
type Event struct {
	Type   string `json:"type"`
	Pass   string `json:"pass"`
	Reason string `json:"reason,omitempty"`
	Result string `json:"result,omitempty"`
}

// broker fans events out to the open event streams. A slow reader loses
// events rather than slowing a pass: the page refetches on any event, so
// the next one brings it up to date.
type broker struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
	done   chan struct{}
}

func newBroker() *broker {
	return &broker{subs: map[chan Event]struct{}{}, done: make(chan struct{})}
}

func (b *broker) subscribe() (chan Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, false
	}
	c := make(chan Event, 8)
	b.subs[c] = struct{}{}
	return c, true
}

func (b *broker) unsubscribe(c chan Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, c)
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.subs {
		select {
		case c <- e:
		default:
		}
	}
}

// close ends every stream (shutdown).
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// eventKeepAlive is how often an idle stream gets a comment, so proxies
// do not close it.
const eventKeepAlive = 20 * time.Second

// handleEvents is GET /events: a text/event-stream of pass-started and
// pass-finished events (data: the Event as JSON) until the client leaves
// or the daemon stops.
func (d *Daemon) handleEvents(w http.ResponseWriter, r *http.Request) {
	c, ok := d.events.subscribe()
	if !ok {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer d.events.unsubscribe(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The client retries after 2 s when the stream drops.
	if _, err := w.Write([]byte("retry: 2000\n: wso2sync pass events\n\n")); err != nil {
		return
	}
	_ = rc.Flush()
	tick := time.NewTicker(eventKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.events.done:
			return
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
		case e := <-c:
			b, _ := json.Marshal(e)
			if _, err := w.Write([]byte("event: " + e.Type + "\ndata: " + string(b) + "\n\n")); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
