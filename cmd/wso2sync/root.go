package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/logging"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Exit codes. `plan` will add 2 for "changes present", as
// `terraform plan -detailed-exitcode` does.
const (
	exitOK    = 0
	exitError = 1
)

// Environment variables that stand in for flags.
const (
	envAPIMURL   = "WSO2SYNC_APIM_URL"
	envISURL     = "WSO2SYNC_IS_URL"
	envTrustRoot = "WSO2SYNC_TRUST_ROOT"
	envRoot      = "WSO2SYNC_ROOT"
	envAllowDirs = "WSO2SYNC_ALLOW_DIRS"
)

// globals are the flags every command shares.
type globals struct {
	envDir    string
	apimURL   string
	isURL     string
	trustRoot string
	root      string   // --root: the folder manifests may name files in
	allowDirs []string // --allow-dir: further folders (e.g. /run/secrets)
	output    string
	logFormat string
	logLevel  string
	// startupWait: how long to wait for a server that refuses connections
	// before answering once (--startup-wait).
	startupWait time.Duration

	stdout, stderr io.Writer
	log            *slog.Logger
	// progress draws plan/apply progress on a terminal (nil otherwise,
	// and for the other commands).
	progress *termProgress
}

// Main runs the CLI and returns the process exit code. It is main's body and
// the entry point testscript runs as the "wso2sync" command.
//
// SIGINT or SIGTERM cancels the command's context; every command stops on
// it within interruptGrace even when blocked somewhere that does not
// honour the context (a read of a slow device, a DNS lookup): after the
// grace it exits anyway, 130 (SIGINT) or 143 (SIGTERM) as a shell would.
// Writes are journalled before and after they happen (internal/apply), so
// the next run reports and converges what an interrupted apply left. A
// second signal exits at once.
func Main() int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, os.Args[1:], os.Stdout, os.Stderr) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	cancel()
	code := 130
	if sig == syscall.SIGTERM {
		code = 143
	}
	select {
	case c := <-done:
		if c == exitOK {
			return c // the command finished what it was doing (run shuts down cleanly)
		}
		return code
	case <-sigs:
	case <-time.After(interruptGrace):
	}
	fmt.Fprintf(os.Stderr, "wso2sync: error: interrupted (%s); stopped without waiting for the command to finish\n", sig)
	return code
}

// interruptGrace is how long a command may take to stop after SIGINT or
// SIGTERM (the bound is 5 s, from the signal to the exit).
const interruptGrace = 4 * time.Second

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		// cobra's own errors (unknown flag, bad arguments) are usage errors.
		ce = &cliError{msg: err.Error(), hint: "run 'wso2sync --help' for usage", code: exitError}
	}
	if !ce.reported {
		fmt.Fprintf(stderr, "wso2sync: error: %s\n", ce.msg)
		if ce.hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", ce.hint)
		}
	}
	return ce.code
}

// cliError is an error a command returns to end with a given exit code.
// reported means the command already printed everything the user needs.
type cliError struct {
	msg, hint string
	code      int
	reported  bool
}

func (e *cliError) Error() string { return e.msg }

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "wso2sync",
		Short: "Keep a WSO2 API Manager + Identity Server estate in line with manifests in git",
		Long: `wso2sync makes a WSO2 API Manager 4.5 + Identity Server 7.1 estate declarative:
key managers, throttling policies, applications and their keys, subscriptions,
IS users and roles, certificates and truststores are described in YAML
manifests, validated against a CUE schema, planned, and applied in order.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.setup()
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&g.envDir, "env", ".", "environment directory (holds wso2sync.yaml)")
	f.StringVar(&g.apimURL, "apim-url", "", "APIM base URL, overriding the environment file (env "+envAPIMURL+")")
	f.StringVar(&g.isURL, "is-url", "", "IS base URL, overriding the environment file (env "+envISURL+")")
	f.StringVar(&g.trustRoot, "trust-root", "", "write truststores under DIR instead (DIR/<absolute path>) and skip restart actions (copies, e.g. against wso2sync sim) (env "+envTrustRoot+")")
	f.StringVar(&g.root, "root", "", "folder every file a manifest names must be inside (default: the git repository holding the environment, else the environment folder's parent) (env "+envRoot+")")
	f.StringArrayVar(&g.allowDirs, "allow-dir", nil, "also allow manifests to name files in DIR, outside the root, e.g. /run/secrets (repeatable; env "+envAllowDirs+", "+string(os.PathListSeparator)+"-separated)")
	f.DurationVar(&g.startupWait, "startup-wait", providers.DefaultStartupWait, "how long to wait for APIM or IS to accept connections while they refuse them before answering once (a server that is starting, e.g. 'wso2sync sim &' just run); 0 fails at once")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&g.logFormat, "log-format", logging.FormatAuto, "log format: auto (colour on a terminal, else JSON), text or json")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")

	root.AddCommand(newValidateCmd(g), newVersionCmd(g), newSimCmd(g), newExportCmd(g), newSecretsCmd(g), newPlanCmd(g), newApplyCmd(g), newRotateCmd(g), newRunCmd(g), newStatusCmd(g), newVerifyCmd(g))
	return root
}

// setup checks the global flags and builds the logger.
func (g *globals) setup() error {
	if g.output != "text" && g.output != "json" {
		return &cliError{msg: fmt.Sprintf("unknown --output %q", g.output), hint: "use --output text or --output json", code: exitError}
	}
	level, err := logging.ParseLevel(g.logLevel)
	if err != nil {
		return &cliError{msg: err.Error(), hint: "use --log-level debug|info|warn|error", code: exitError}
	}
	g.log, err = logging.New(g.stderr, g.logFormat, level)
	if err != nil {
		return &cliError{msg: err.Error(), hint: "use --log-format auto|text|json", code: exitError}
	}
	if g.apimURL == "" {
		g.apimURL = os.Getenv(envAPIMURL)
	}
	if g.isURL == "" {
		g.isURL = os.Getenv(envISURL)
	}
	if g.root == "" {
		g.root = os.Getenv(envRoot)
	}
	if len(g.allowDirs) == 0 {
		if v := os.Getenv(envAllowDirs); v != "" {
			g.allowDirs = filepath.SplitList(v)
		}
	}
	if g.trustRoot == "" {
		g.trustRoot = os.Getenv(envTrustRoot)
	}
	return nil
}

// loadOptions are the spec.LoadOptions the global flags set.
func (g *globals) loadOptions() spec.LoadOptions {
	return spec.LoadOptions{APIMURL: g.apimURL, ISURL: g.isURL, Root: g.root, AllowDirs: g.allowDirs}
}
