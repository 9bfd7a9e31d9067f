package trust

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// RestartOptions tune Restart.
type RestartOptions struct {
	// Timeout bounds the command or the call (5 minutes if zero: a JVM
	// restart that waits for readiness takes a while).
	Timeout time.Duration
	// Dir is the command's working directory ("" the current one).
	Dir string
	// HTTPClient makes HTTP calls (http.DefaultClient if nil).
	HTTPClient *http.Client
}

// RestartKey identifies a restart action, so that truststores naming the
// same action share one run.
func RestartKey(a *spec.RestartAction) string {
	if a == nil {
		return ""
	}
	if a.HTTP != nil {
		return "http " + strings.ToUpper(a.HTTP.Method) + " " + a.HTTP.URL
	}
	return "command " + strconv.Quote(strings.Join(a.Command, "\x00"))
}

// DescribeRestart is the action as the plan shows it.
func DescribeRestart(a *spec.RestartAction) string {
	if a == nil {
		return ""
	}
	if a.HTTP != nil {
		m := a.HTTP.Method
		if m == "" {
			m = http.MethodPost
		}
		return strings.ToUpper(m) + " " + a.HTTP.URL
	}
	var q []string
	for _, s := range a.Command {
		if s == "" || strings.ContainsAny(s, " \t\n'\"\\$`") {
			s = strconv.Quote(s)
		}
		q = append(q, s)
	}
	return strings.Join(q, " ")
}

// Restart runs a restart action: the command (no shell) must exit 0, the
// HTTP call must answer 2xx. The error carries the end of the command's
// output or of the response body.
func Restart(ctx context.Context, a *spec.RestartAction, o RestartOptions) error {
	if a == nil {
		return nil
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if a.HTTP != nil {
		m := strings.ToUpper(a.HTTP.Method)
		if m == "" {
			m = http.MethodPost
		}
		req, err := http.NewRequestWithContext(ctx, m, a.HTTP.URL, nil)
		if err != nil {
			return fmt.Errorf("restart %s: %w", DescribeRestart(a), err)
		}
		c := o.HTTPClient
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("restart %s: %w", DescribeRestart(a), err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("restart %s: HTTP %s%s", DescribeRestart(a), resp.Status, tail(body))
		}
		return nil
	}
	if len(a.Command) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, a.Command[0], a.Command[1:]...)
	cmd.Dir = o.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %s", ctx.Err(), o.Timeout)
		}
		return fmt.Errorf("restart %s: %w%s", DescribeRestart(a), err, tail(out.Bytes()))
	}
	return nil
}

// tail is the last lines of some output, indented, for an error.
func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "\n  " + strings.Join(lines, "\n  ")
}
