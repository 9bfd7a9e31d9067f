package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// chromium finds a Chromium to drive: $WSO2SYNC_CHROMIUM, else Debian's
// chromium (.ci/run installs it) or another usual name. Without one the
// test is skipped on a laptop, and fails under CI (CI set), where a
// missing browser would otherwise silently drop the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WSO2SYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (chromium, chromium-browser, google-chrome, or $WSO2SYNC_CHROMIUM) and CI is set: install Debian's chromium package")
	}
	t.Skip("no Chromium found: install Debian's chromium package (CI does) or set WSO2SYNC_CHROMIUM")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// context to drive it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// eval runs a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitPage polls a JavaScript condition in the page.
func waitPage(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	waitFor(t, what+" (in the browser)", 30*time.Second, func() bool { return eval[bool](t, ctx, js) })
}

const hostileDescription = `as declared <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`

// TestStatusPageInABrowser drives headless Chromium against a dry-run
// daemon on the simulator: the estate shows in sync; an application
// changed behind the daemon's back shows drifted, with the field diff and
// the manifest line, after the next pass, without a reload (the page
// follows GET /events); a pass failing against an unreachable APIM shows
// failed in the history with its error and hint, the estate staying as
// the last plan saw it. Hostile manifest text shows as text. A screenshot
// goes to the test's temporary folder (and to $WSO2SYNC_SCREENSHOT_DIR).
func TestStatusPageInABrowser(t *testing.T) {
	ctx := browser(t)
	var down atomic.Bool
	s := startSimEnv(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() && server == "apim" {
				http.Error(w, `{"code":503,"message":"Service Unavailable"}`, http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "dry-run"))
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("browser-app", fmt.Sprintf("%q", hostileDescription))+appDoc("steady-app", "steady"))
	pass := reconcilePass(s)
	// The estate exists as declared before the daemon starts.
	if _, err := pass(context.Background(), PassRequest{Dir: dir, Mode: "enforce", Log: testLogger(t)}); err != nil {
		t.Fatal(err)
	}
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d, base := startDaemon(t, Options{Source: src, Pass: pass, Version: "browser-test",
		Scheduler: SchedulerOptions{Interval: time.Hour, BackoffBase: time.Hour}})
	passAfter(t, d, 0, "the first pass")

	// 1. In sync.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	state := func(name string) string {
		return eval[string](t, ctx, fmt.Sprintf(`(document.querySelector('tr.object[data-name=%q]')||{dataset:{}}).dataset.state||""`, name))
	}
	if got := state("browser-app"); got != StateInSync {
		t.Fatalf("browser-app shows %q, want in-sync", got)
	}
	if n := eval[string](t, ctx, `document.querySelector('.count.in-sync b').textContent`); n == "0" {
		t.Errorf("the in-sync count is %s", n)
	}
	waitPage(t, ctx, "the event stream open", `document.documentElement.dataset.live === "open"`)
	// A marker a reload would wipe: the updates below must come live.
	eval[bool](t, ctx, `window.noReload = true`)

	// 2. Drifted, after a change behind the daemon's back and a pass.
	tamper(t, s, dir, "browser-app", "changed by hand")
	n := len(d.Status().History)
	d.Trigger("interval")
	passAfter(t, d, n, "the pass after the tamper")
	waitPage(t, ctx, "browser-app drifted", `(document.querySelector('tr.object[data-name="browser-app"]')||{dataset:{}}).dataset.state === "drifted"`)
	row := eval[string](t, ctx, `document.querySelector('tr.object[data-name="browser-app"]').innerText`)
	for _, want := range []string{"drifted", "spec.description", `"changed by hand"`, "apps.yaml:2", `<img src=x onerror=`, `<script>window.pwned=2</script>`} {
		if !strings.Contains(row, want) {
			t.Errorf("the drifted row lacks %q:\n%s", want, row)
		}
	}
	if got := state("steady-app"); got != StateInSync {
		t.Errorf("steady-app shows %q, want in-sync", got)
	}
	if !eval[bool](t, ctx, `window.noReload === true && window.pwned === undefined`) {
		t.Error("the page reloaded instead of updating live, or hostile manifest text ran")
	}
	if got := eval[string](t, ctx, `document.querySelector('.count.drifted b').textContent`); got != "1" {
		t.Errorf("drifted count %q, want 1", got)
	}

	// Without JavaScript (a second tab with scripts off) the server-rendered
	// page shows the same.
	noJS, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if _, err := chromedp.Call(noJS, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("turning scripts off: %v", err)
	}
	if err := chromedp.Do(noJS, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, noJS, `(document.documentElement.dataset.live||"no script") + " " + document.querySelector('tr.object[data-name="browser-app"]').dataset.state`); got != "no script drifted" {
		t.Errorf("without JavaScript: %q, want the drifted row and no live updates", got)
	}

	// 3. A failed pass: APIM answers 503.
	down.Store(true)
	n = len(d.Status().History)
	d.Trigger("interval")
	if lp := passAfter(t, d, n, "the failing pass"); lp.Result != ResultFailure {
		t.Fatalf("pass against a failing APIM: %+v", lp)
	}
	waitPage(t, ctx, "the failed pass in the history", `(document.querySelector('#history tr.pass')||{dataset:{}}).dataset.result === "failure"`)
	hist := eval[string](t, ctx, `document.querySelector('#history').innerText`)
	if !strings.Contains(hist, "failure") || !strings.Contains(hist, "hint:") || !strings.Contains(hist, "503") {
		t.Errorf("the history does not show the failure with its error and hint:\n%s", hist)
	}
	if got := state("browser-app"); got != StateDrifted {
		t.Errorf("after the failed pass browser-app shows %q; the estate should stay as the last plan saw it", got)
	}
	if !eval[bool](t, ctx, `window.noReload === true`) {
		t.Error("the page reloaded")
	}

	// The screenshot, with the in-sync and unmanaged lists opened.
	eval[bool](t, ctx, `document.querySelectorAll('details').forEach(d => d.open = true), true`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "status-page.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("WSO2SYNC_SCREENSHOT_DIR"); out != "" {
		if err := os.WriteFile(filepath.Join(out, "status-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(png) < 10_000 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot %s: %d bytes, not a page's PNG", shot, len(png))
	}
	t.Logf("screenshot: %s", shot)
}

// tamper changes an application's description in APIM without wso2sync.
func tamper(t *testing.T, s *sim.Sim, dir, name, description string) {
	t.Helper()
	ctx := context.Background()
	p, err := reconcile.Load(ctx, reconcile.Options{EnvDir: dir, APIMURL: s.APIMURL(), ISURL: s.ISURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Compute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	app := *p.State.Application(name)
	app.Spec.Description = description
	if err := p.Providers.APIM.Applications.Update(ctx, p.Live.ID(spec.KindApplication, name), &app); err != nil {
		t.Fatal(err)
	}
}
