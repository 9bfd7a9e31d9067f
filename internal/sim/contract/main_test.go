package contract

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// cov collects, across every test of this package, which operations were
// validated with which statuses.
var cov = NewCoverage()

// TestMain runs the suite, then — when the whole suite ran (no -run,
// no -short) — checks that every route the simulator serves was validated
// with a success and, where the spec declares one, an error status, and
// that every erratum was needed.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	full := flag.Lookup("test.run").Value.String() == "" && !testing.Short()
	if code == 0 && full {
		if problems := coverageProblems(); len(problems) > 0 {
			fmt.Fprintln(os.Stderr, "contract coverage:")
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, "  "+p)
			}
			fmt.Fprintln(os.Stderr, "FAIL: contract coverage incomplete")
			code = 1
		}
	}
	os.Exit(code)
}

// serverRoute is a route of one server.
type serverRoute struct {
	server string
	simcore.Route
}

// allRoutes are the operations both simulators declare.
func allRoutes() []serverRoute {
	var out []serverRoute
	for _, r := range apim.New(apim.Options{}).Routes() {
		out = append(out, serverRoute{sim.ServerAPIM, r})
	}
	for _, r := range is.New(is.Options{}).Routes() {
		out = append(out, serverRoute{sim.ServerIS, r})
	}
	return out
}

// errorStatuses are the statuses that count as "an error case was
// exercised"; an operation needs one when its spec declares one of them.
var errorStatuses = map[int]bool{400: true, 401: true, 404: true, 409: true}

// noErrorCase lists operations whose declared error statuses cannot be
// produced by a correct simulator, each with the reason.
var noErrorCase = map[string]string{
	"GET /api/server/v1/keystores/certs/public": "anonymous download of the server certificate: no request " +
		"makes it fail (400/401/403/404 are declared for the keystore API as a whole)",
}

func coverageProblems() []string {
	specs, err := LoadSpecs()
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	seen := map[string]bool{}
	for _, rt := range allRoutes() {
		op := rt.Pattern()
		if seen[rt.server+" "+op] {
			problems = append(problems, "route declared twice: "+rt.server+" "+op)
			continue
		}
		seen[rt.server+" "+op] = true
		st := cov.Statuses(rt.server, op)
		ok2xx, okErr := false, false
		for s := range st {
			if s >= 200 && s < 300 {
				ok2xx = true
			}
			if s >= 400 && s < 500 {
				okErr = true
			}
		}
		if !ok2xx {
			problems = append(problems, fmt.Sprintf("%s %s: never validated with a 2xx (saw %v)", rt.server, op, keys(st)))
		}
		if rt.Spec == "" || okErr || noErrorCase[op] != "" {
			continue
		}
		if needsError(specs, rt.Route) {
			problems = append(problems, fmt.Sprintf("%s %s: no error status validated (saw %v)", rt.server, op, keys(st)))
		}
	}
	used := cov.ErrataUsed()
	for i, e := range Errata {
		if e.Fix == nil && !e.DedupKeys && used[i] == 0 {
			problems = append(problems, fmt.Sprintf("erratum %d (%s %s %d %q) was never needed; remove it", i, e.Spec, e.Op, e.Status, e.Match))
		}
	}
	sort.Strings(problems)
	return problems
}

func needsError(specs *Specs, rt simcore.Route) bool {
	doc := specs.Docs[rt.Spec]
	if doc == nil {
		return false
	}
	pi := doc.Paths.Value(rt.Path)
	if pi == nil {
		return false
	}
	op := pi.GetOperation(rt.Method)
	if op == nil || op.Responses == nil {
		return false
	}
	for code := range op.Responses.Map() {
		var n int
		if _, err := fmt.Sscanf(code, "%d", &n); err == nil && errorStatuses[n] {
			return true
		}
	}
	return false
}

func keys(m map[int]int) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// TestEveryRouteIsInItsSpec checks the routes' spec names statically.
func TestEveryRouteIsInItsSpec(t *testing.T) {
	specs, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range allRoutes() {
		if rt.Spec == "" {
			if strings.HasPrefix(rt.BasePath, "/api/") || strings.HasPrefix(rt.BasePath, "/scim2") {
				t.Errorf("%s: a REST API route without a spec", rt.Pattern())
			}
			continue
		}
		doc := specs.Docs[rt.Spec]
		if doc == nil {
			t.Errorf("%s: spec %q is not one of SpecFiles", rt.Pattern(), rt.Spec)
			continue
		}
		pi := doc.Paths.Value(rt.Path)
		if pi == nil || pi.GetOperation(rt.Method) == nil {
			t.Errorf("%s: %s %s is not an operation of %s", rt.Pattern(), rt.Method, rt.Path, rt.Spec)
		}
	}
}
