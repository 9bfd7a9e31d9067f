package daemon

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that JSON writes as "1.5s".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// RunningPass is the pass in progress.
type RunningPass struct {
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
}

// PassStatus is a finished pass.
type PassStatus struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Revision Revision  `json:"revision"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration Duration  `json:"duration"`
	// Result is success, failure, invalid or timeout.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	PassResult
}

// PassBrief is a line of the pass history.
type PassBrief struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Start    time.Time `json:"start"`
	Duration Duration  `json:"duration"`
	Result   string    `json:"result"`
	Commit   string    `json:"commit,omitempty"`
	Changes  int       `json:"changes"`
	Applied  int       `json:"applied"`
}

func (p *PassStatus) brief() PassBrief {
	n := 0
	for _, m := range p.Applied {
		for _, c := range m {
			n += c
		}
	}
	return PassBrief{ID: p.ID, Reason: p.Reason, Start: p.Start, Duration: p.Duration, Result: p.Result,
		Commit: p.Revision.Commit, Changes: p.Plan.Changes(), Applied: n}
}

// Status is what GET /status returns.
type Status struct {
	Version     string    `json:"version,omitempty"`
	Mode        string    `json:"mode"`
	Started     time.Time `json:"started"`
	Ready       bool      `json:"ready"`
	ReadyReason string    `json:"readyReason"`
	// Source is the source and the revision of the last pass.
	Source              Revision     `json:"source"`
	Running             *RunningPass `json:"running,omitempty"`
	NextPass            time.Time    `json:"nextPass"`
	Interval            Duration     `json:"interval"`
	ConsecutiveFailures int          `json:"consecutiveFailures"`
	LastPass            *PassStatus  `json:"lastPass,omitempty"`
	LastSuccess         *PassBrief   `json:"lastSuccess,omitempty"`
	History             []PassBrief  `json:"history"`
}

// Status is the daemon's status now.
func (d *Daemon) Status() Status {
	now := d.clock.Now()
	ready, why := d.readiness(now)
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{
		Version: d.opts.Version, Mode: d.opts.Mode, Started: d.started.UTC(), Ready: ready, ReadyReason: why,
		Source: d.source, NextPass: d.sched.Next().UTC(), Interval: Duration(d.opts.Scheduler.Interval),
		ConsecutiveFailures: d.sched.Failures(), History: append([]PassBrief(nil), d.history...),
	}
	if st.Mode == "" && d.last != nil {
		st.Mode = d.last.Mode
	}
	if d.running != nil {
		r := *d.running
		st.Running = &r
	}
	if d.last != nil {
		l := *d.last
		st.LastPass = &l
	}
	if d.lastSuccess != nil {
		b := d.lastSuccess.brief()
		st.LastSuccess = &b
	}
	return st
}

// readiness: ready once a pass succeeded, and while the last success is
// within ReadyGrace when later passes fail (a pass reads both servers, so
// success also means they are reachable).
func (d *Daemon) readiness(now time.Time) (bool, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.stopping.Load():
		return false, "shutting down"
	case d.last == nil:
		return false, "the first pass has not finished"
	case d.last.Result == ResultSuccess:
		return true, "the last pass succeeded"
	case d.lastSuccess != nil && now.Sub(d.lastSuccess.End) <= d.opts.ReadyGrace:
		return true, fmt.Sprintf("the last pass ended %s, but the last success (%s ago) is within the grace of %s",
			d.last.Result, now.Sub(d.lastSuccess.End).Round(time.Second), d.opts.ReadyGrace)
	case d.lastSuccess != nil:
		return false, fmt.Sprintf("the last pass ended %s and the last success was %s ago (grace %s): %s",
			d.last.Result, now.Sub(d.lastSuccess.End).Round(time.Second), d.opts.ReadyGrace, d.last.Error)
	}
	return false, fmt.Sprintf("no pass has succeeded yet; the last ended %s: %s", d.last.Result, d.last.Error)
}
