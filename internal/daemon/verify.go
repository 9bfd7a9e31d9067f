package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wso2sync/wso2sync/internal/reconcile"

	verifier "github.com/wso2sync/wso2sync/internal/verify"
)

// The daemon runs internal/verify after each enforcing pass that applied
// something (reconcile.go): the report goes into the pass's result
// (PassResult.Verify), the last one into Status.LastVerify and into the
// wso2sync_verify_* metrics below. A failed check does not fail the pass
// (the apply did what the manifests say; retrying it cannot mend a secret
// changed behind wso2sync's back); it shows in /status, on the page and in
// wso2sync_verify_checks{status="failed"}, which is what to alert on.

// VerifyOptions configure the verification after a pass.
type VerifyOptions struct {
	// Off turns it off (wso2sync run --verify=false).
	Off bool
	// GatewayURL and Users are verify.Options' (--gateway-url, --users).
	GatewayURL string
	Users      bool
}

// verifyPass verifies what an enforcing pass applied; nil when off or
// when verify could not run (logged).
func verifyPass(ctx context.Context, p *reconcile.Pass, o VerifyOptions, log *slog.Logger) *verifier.Report {
	if o.Off {
		return nil
	}
	rep, err := verifier.Run(ctx, p, verifier.Options{GatewayURL: o.GatewayURL, Users: o.Users})
	if err != nil {
		log.Warn("verify could not run", "err", err)
		return nil
	}
	lvl := slog.LevelInfo
	if rep.Failed() {
		lvl = slog.LevelWarn
		for _, c := range rep.Checks {
			if c.Status == verifier.Failed {
				log.Warn("verify: check failed", "kind", c.Kind, "name", c.Name, "message", c.Message, "hint", c.Hint)
			}
		}
	}
	log.Log(ctx, lvl, "verified", "verified", rep.Summary.Verified, "failed", rep.Summary.Failed,
		"skipped", rep.Summary.Skipped, "duration", rep.Duration)
	return rep
}

// VerifyStatus is the last verification and the pass that ran it.
type VerifyStatus struct {
	Pass string    `json:"pass"`
	Time time.Time `json:"time"`
	*verifier.Report
}

// verifyMetrics are the wso2sync_verify_* metrics.
type verifyMetrics struct {
	runs     *prometheus.CounterVec
	checks   *prometheus.GaugeVec
	failed   *prometheus.GaugeVec
	lastRun  prometheus.Gauge
	duration prometheus.Histogram
}

func newVerifyMetrics(reg *prometheus.Registry) *verifyMetrics {
	m := &verifyMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wso2sync_verify_runs_total", Help: "Verifications run after enforcing passes, by result (passed: no check failed; failed).",
		}, []string{"result"}),
		checks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wso2sync_verify_checks", Help: "Checks of the last verification, by kind (ApplicationKey, Subscription, User) and status (verified, failed, skipped).",
		}, []string{"kind", "status"}),
		failed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wso2sync_verify_check_failed", Help: "1 for each check that failed in the last verification, by kind and name.",
		}, []string{"kind", "name"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wso2sync_verify_last_run_timestamp_seconds", Help: "Unix time of the last verification.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wso2sync_verify_duration_seconds", Help: "Duration of a verification.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	reg.MustRegister(m.runs, m.checks, m.failed, m.lastRun, m.duration)
	m.runs.WithLabelValues("passed")
	m.runs.WithLabelValues("failed")
	return m
}

// observe records a verification.
func (m *verifyMetrics) observe(r *verifier.Report, at time.Time) {
	if r == nil {
		return
	}
	result := "passed"
	if r.Failed() {
		result = "failed"
	}
	m.runs.WithLabelValues(result).Inc()
	m.lastRun.Set(float64(at.Unix()))
	if d, err := time.ParseDuration(r.Duration); err == nil {
		m.duration.Observe(d.Seconds())
	}
	m.checks.Reset()
	for _, kind := range []string{verifier.KindKey, verifier.KindSubscription, verifier.KindUser} {
		for _, s := range []verifier.Status{verifier.Verified, verifier.Failed, verifier.Skipped} {
			m.checks.WithLabelValues(kind, string(s)).Set(0)
		}
	}
	m.failed.Reset()
	for _, c := range r.Checks {
		m.checks.WithLabelValues(c.Kind, string(c.Status)).Inc()
		if c.Status == verifier.Failed {
			m.failed.WithLabelValues(c.Kind, c.Name).Set(1)
		}
	}
}
