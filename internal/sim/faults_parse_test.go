package sim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		spec string
		want FaultConfig
	}{
		{"", FaultConfig{}},
		{"none", FaultConfig{}},
		{"5xx=0.05", FaultConfig{Rules: []FaultRule{{P5xx: 0.05}}}},
		{"5xx=0.5@503,latency=20ms±5ms", FaultConfig{Rules: []FaultRule{{P5xx: 0.5, Status5xx: 503, Latency: ms(20), Jitter: ms(5)}}}},
		{"latency=20ms+-5ms", FaultConfig{Rules: []FaultRule{{Latency: ms(20), Jitter: ms(5)}}}},
		{"429=10@2s", FaultConfig{Rules: []FaultRule{{Burst429: 10, RetryAfter: ms(2000)}}}},
		{"429=0.25@1s", FaultConfig{Rules: []FaultRule{{P429: 0.25, RetryAfter: ms(1000)}}}},
		{"reset=0.01", FaultConfig{Rules: []FaultRule{{PReset: 0.01}}}},
		{"is.5xx=1,apim.latency=1ms", FaultConfig{Rules: []FaultRule{{Server: "is", P5xx: 1}, {Server: "apim", Latency: ms(1)}}}},
		{
			"5xx=0.05,429=10@2s,reset=0.01,latency=20ms±5ms,route=POST /api/am/devportal/v3/applications:5xx=1.0",
			FaultConfig{Rules: []FaultRule{
				{P5xx: 0.05, Burst429: 10, RetryAfter: ms(2000), PReset: 0.01, Latency: ms(20), Jitter: ms(5)},
				{Route: "POST /api/am/devportal/v3/applications", P5xx: 1},
			}},
		},
		{
			"route=is GET /scim2/Users:latency=50ms;429=3",
			FaultConfig{Rules: []FaultRule{{Server: "is", Route: "GET /scim2/Users", Latency: ms(50), Burst429: 3}}},
		},
	}
	for _, tt := range tests {
		got, err := ParseFaults(tt.spec)
		if err != nil {
			t.Errorf("ParseFaults(%q): %v", tt.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFaults(%q) =\n %+v\nwant\n %+v", tt.spec, got, tt.want)
		}
		// String renders the same configuration back.
		again, err := ParseFaults(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q via %q: %+v, %v", tt.spec, got.String(), again, err)
		}
		// And JSON too.
		b, _ := json.Marshal(got)
		var fromJSON FaultConfig
		if err := json.Unmarshal(b, &fromJSON); err != nil || !reflect.DeepEqual(normRules(fromJSON), normRules(got)) {
			t.Errorf("JSON round trip of %q: %s → %+v, %v", tt.spec, b, fromJSON, err)
		}
	}
}

func normRules(c FaultConfig) FaultConfig {
	if len(c.Rules) == 0 {
		c.Rules = nil
	}
	return c
}

func TestParseFaultsErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"5xx=2":                     "not in 0..1",
		"5xx=0.1@404":               "not a 5xx",
		"reset=x":                   "reset=x",
		"bogus=1":                   "unknown key",
		"latency":                   "want key=value",
		"latency=fast":              "latency=fast",
		"route=POST /x":             "missing",
		"route=/x:5xx=1":            "want \"METHOD /path",
		"route=POST /x:5xx":         "want key=value",
		"429=many":                  "429=many",
		"route=get /x:5xx=1;nope=1": "unknown key",
	} {
		_, err := ParseFaults(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFaults(%q) error = %v, want it to mention %q", spec, err, want)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`"1.5s"`), &d); err != nil || time.Duration(d) != 1500*time.Millisecond {
		t.Fatalf("string: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`2000000`), &d); err != nil || time.Duration(d) != 2*time.Millisecond {
		t.Fatalf("number: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil {
		t.Fatal("want error for a bad duration")
	}
	b, _ := json.Marshal(Duration(20 * time.Millisecond))
	if string(b) != `"20ms"` {
		t.Fatalf("marshal = %s", b)
	}
}

func TestFaultDecisionSpecificity(t *testing.T) {
	f := newFaults(7)
	cfg, err := ParseFaults("latency=10ms,is.latency=20ms,route=GET /x:latency=30ms,route=is GET /x:5xx=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(cfg); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		server, route string
		delay         time.Duration
		status        int
	}{
		{"apim", "GET /y", 10 * time.Millisecond, 0},
		{"is", "GET /y", 20 * time.Millisecond, 0},
		{"apim", "GET /x", 30 * time.Millisecond, 0},
		// server+route rule sets only 5xx; latency falls back to route rule.
		{"is", "GET /x", 30 * time.Millisecond, 500},
	}
	for _, c := range cases {
		d := f.decide(c.server, c.route)
		if d.delay != c.delay || d.status != c.status {
			t.Errorf("%s %s: delay %v status %d, want %v %d", c.server, c.route, d.delay, d.status, c.delay, c.status)
		}
	}
}

func TestFaultBurstAndDeterminism(t *testing.T) {
	f := newFaults(1)
	if err := f.SetSpec("429=3@2s"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range 10 {
		d := f.decide("apim", "GET /x")
		if d.status == 429 {
			n++
			if d.retryAfter != 2*time.Second {
				t.Fatalf("retryAfter %v", d.retryAfter)
			}
		}
	}
	if n != 3 {
		t.Fatalf("burst gave %d 429s, want 3", n)
	}
	// Setting the configuration again re-arms the burst.
	_ = f.SetSpec("429=3@2s")
	if d := f.decide("is", "GET /y"); d.status != 429 {
		t.Fatalf("re-armed burst: %+v", d)
	}

	// Same seed, same sequence.
	run := func(seed uint64) []int {
		g := newFaults(seed)
		_ = g.SetSpec("5xx=0.5,latency=10ms±10ms")
		var out []int
		for range 50 {
			d := g.decide("apim", "GET /x")
			out = append(out, d.status, int(d.delay))
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different decisions")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical decisions")
	}
	fails := 0
	for i := 0; i < len(a); i += 2 {
		if a[i] == 500 {
			fails++
		}
		if d := time.Duration(a[i+1]); d < 0 || d > 20*time.Millisecond {
			t.Fatalf("jittered delay %v outside 0..20ms", d)
		}
	}
	if fails == 0 || fails == 50 {
		t.Fatalf("5xx=0.5 failed %d of 50", fails)
	}
}

func TestParseAfterFaults(t *testing.T) {
	for spec, want := range map[string]FaultRule{
		"after5xx=2":        {After: AfterFault5xx, AfterCount: 2},
		"afterreset=0.25":   {After: AfterFaultReset, PAfter: 0.25},
		"is.aftertimeout=1": {Server: ServerIS, After: AfterFaultTimeout, AfterCount: 1},
		"route=POST /api/am/devportal/v3/applications/{applicationId}/generate-keys:half=1": {
			Route: "POST /api/am/devportal/v3/applications/{applicationId}/generate-keys", After: AfterFaultHalf, AfterCount: 1},
	} {
		cfg, err := ParseFaults(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if len(cfg.Rules) != 1 || cfg.Rules[0] != want {
			t.Fatalf("%s: %+v", spec, cfg.Rules)
		}
		if again, err := ParseFaults(cfg.String()); err != nil || again.Rules[0] != want {
			t.Fatalf("%s: String %q does not parse back: %v %+v", spec, cfg.String(), err, again)
		}
	}
	for _, bad := range []string{"after5xx=x", "afterreset=1.5"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Fatalf("%s: want an error", bad)
		}
	}
	if err := (FaultConfig{Rules: []FaultRule{{After: "boom", AfterCount: 1}}}).Validate(); err == nil {
		t.Fatal("unknown after kind accepted")
	}
}
