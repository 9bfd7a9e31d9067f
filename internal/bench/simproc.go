package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// The simulator runs in a child process by default (the bench binary
// re-executed with BENCH_SIM_CHILD set), so that the bench process's peak
// RSS is wso2sync's own: the simulator's L estate (and its request
// handling) is not counted against wso2sync's memory target. The parent
// reads the counters through the simulator's control API (/_sim/stats,
// /_sim/reset?scope=counters). BENCH_SIM=inprocess keeps it in the same
// process (the figures then include the simulator).

// simHandle is the simulator of one size, wherever it runs.
type simHandle interface {
	APIMURL() string
	ISURL() string
	Issuer() string
	Stats() (sim.Stats, error)
	ResetCounters() error
	// SetFaults replaces the simulator's fault configuration (the flag
	// syntax of `wso2sync sim --faults`).
	SetFaults(spec string) error
	// State is both servers' data (GET /_sim/state).
	State() (sim.State, error)
	// Builtins are the objects a fresh simulator holds.
	Builtins() Builtins
	// PeakRSSMiB is the simulator process's own peak RSS (0 in process).
	PeakRSSMiB() float64
	Close()
}

// childHello is what the child prints once it serves.
type childHello struct {
	APIMURL, ISURL, Issuer string
	Builtins               Builtins
	Error                  string
}

// simChildEnv carries the child's configuration: "latency;concurrency;apis".
const simChildEnv = "BENCH_SIM_CHILD"

func startSim(ctx context.Context, cfg Config, apis int) (simHandle, error) {
	if strings.EqualFold(os.Getenv("BENCH_SIM"), "inprocess") {
		return startInProcess(cfg, apis)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s;%d;%d", simChildEnv, cfg.Latency, cfg.ServerConcurrency, apis))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var hello childHello
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &hello)
	}
	if err == nil && hello.Error != "" {
		err = fmt.Errorf("%s", hello.Error)
	}
	if err != nil {
		stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("simulator child: %w", err)
	}
	return &childSim{cmd: cmd, stdin: stdin, hello: hello, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

// runSimChild is the child's main: serve until stdin closes.
func runSimChild(conf string) {
	hello := func(h childHello) {
		b, _ := json.Marshal(h)
		os.Stdout.Write(append(b, '\n'))
	}
	parts := strings.Split(conf, ";")
	if len(parts) != 3 {
		hello(childHello{Error: "bad " + simChildEnv})
		os.Exit(2)
	}
	lat, err1 := time.ParseDuration(parts[0])
	conc, err2 := strconv.Atoi(parts[1])
	apis, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		hello(childHello{Error: "bad " + simChildEnv + ": " + conf})
		os.Exit(2)
	}
	h, err := startInProcess(Config{Latency: lat, ServerConcurrency: conc}, apis)
	if err != nil {
		hello(childHello{Error: err.Error()})
		os.Exit(1)
	}
	hello(childHello{APIMURL: h.APIMURL(), ISURL: h.ISURL(), Issuer: h.Issuer(), Builtins: h.Builtins()})
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes the pipe or exits
	h.Close()
	os.Exit(0)
}

type childSim struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	hello childHello
	hc    *http.Client
}

func (c *childSim) APIMURL() string    { return c.hello.APIMURL }
func (c *childSim) ISURL() string      { return c.hello.ISURL }
func (c *childSim) Issuer() string     { return c.hello.Issuer }
func (c *childSim) Builtins() Builtins { return c.hello.Builtins }

func (c *childSim) Stats() (sim.Stats, error) {
	var st sim.Stats
	resp, err := c.hc.Get(c.hello.APIMURL + "/_sim/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /_sim/stats: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func (c *childSim) ResetCounters() error {
	resp, err := c.hc.Post(c.hello.APIMURL+"/_sim/reset?scope=counters", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST /_sim/reset: %s", resp.Status)
	}
	return nil
}

func (c *childSim) SetFaults(spec string) error {
	req, err := http.NewRequest(http.MethodPut, c.hello.APIMURL+"/_sim/faults", strings.NewReader(spec))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("PUT /_sim/faults %q: %s: %s", spec, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

func (c *childSim) State() (sim.State, error) {
	var st sim.State
	resp, err := c.hc.Get(c.hello.APIMURL + "/_sim/state")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /_sim/state: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func (c *childSim) PeakRSSMiB() float64 {
	return vmHWM(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
}

func (c *childSim) Close() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// inProcess is the simulator in the bench process.
type inProcess struct {
	s *sim.Sim
	b Builtins
}

func startInProcess(cfg Config, apis int) (*inProcess, error) {
	faults, err := sim.ParseFaults(fmt.Sprintf("latency=%s", cfg.Latency))
	if err != nil {
		return nil, err
	}
	if cfg.Latency <= 0 {
		faults = sim.FaultConfig{}
	}
	s := sim.New(sim.Options{MaxInFlight: cfg.ServerConcurrency, MaxSCIMCount: SCIMCap, Faults: faults, LogSize: 16})
	if err := s.Listen("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	// Only the APIs exist beforehand (wso2sync does not manage APIs).
	if _, err := sim.GenerateEstate(s, sim.EstateSize{APIs: apis}); err != nil {
		s.Close()
		return nil, err
	}
	dump := s.Dump()
	return &inProcess{s: s, b: Builtins{Apps: len(dump.APIM.Applications), Users: len(dump.IS.Users), Roles: len(dump.IS.Roles)}}, nil
}

func (p *inProcess) APIMURL() string             { return p.s.APIMURL() }
func (p *inProcess) ISURL() string               { return p.s.ISURL() }
func (p *inProcess) Issuer() string              { return p.s.Issuer() }
func (p *inProcess) Builtins() Builtins          { return p.b }
func (p *inProcess) Stats() (sim.Stats, error)   { return p.s.Stats(), nil }
func (p *inProcess) ResetCounters() error        { p.s.ResetCounters(); return nil }
func (p *inProcess) PeakRSSMiB() float64         { return 0 }
func (p *inProcess) SetFaults(spec string) error { return p.s.Faults().SetSpec(spec) }
func (p *inProcess) State() (sim.State, error)   { return p.s.Dump(), nil }
func (p *inProcess) Close()                      { p.s.Close() }
