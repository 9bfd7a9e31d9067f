package daemon

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg *prometheus.Registry

	passes        *prometheus.CounterVec
	duration      prometheus.Histogram
	inProgress    prometheus.Gauge
	applied       *prometheus.CounterVec
	drift         *prometheus.CounterVec
	driftNow      *prometheus.GaugeVec
	unmanaged     *prometheus.GaugeVec
	planChanges   *prometheus.GaugeVec
	calls         *prometheus.CounterVec
	retries       prometheus.Counter
	concurrency   *prometheus.GaugeVec
	lastSuccess   prometheus.Gauge
	lastPass      prometheus.Gauge
	revision      *prometheus.GaugeVec
	certExpiry    *prometheus.GaugeVec
	webhooks      *prometheus.CounterVec
	coalesced     prometheus.CounterFunc
	consecFailure prometheus.GaugeFunc
	verify        *verifyMetrics
}

func newMetrics(coalesced, failures func() float64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wso2sync_passes_total", Help: "Passes run, by result (success, failure, invalid, timeout).",
	}, []string{"result"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "wso2sync_pass_duration_seconds", Help: "Duration of a pass (source sync, read, plan and apply).",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	})
	m.inProgress = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wso2sync_pass_in_progress", Help: "1 while a pass runs.",
	})
	m.applied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wso2sync_changes_applied_total", Help: "Changes applied, by kind and action.",
	}, []string{"kind", "action"})
	m.drift = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wso2sync_drift_detected_total", Help: "Objects found out of line with the manifests at the start of a pass, by kind.",
	}, []string{"kind"})
	m.driftNow = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_drift_objects", Help: "Objects out of line with the manifests at the start of the last completed pass, by kind.",
	}, []string{"kind"})
	m.unmanaged = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_unmanaged_objects", Help: "Live objects no manifest declares, by kind (last completed pass).",
	}, []string{"kind"})
	m.planChanges = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_plan_changes", Help: "Changes in the last plan, by action.",
	}, []string{"action"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wso2sync_api_calls_total", Help: "API calls to the WSO2 servers, by server and HTTP status (0: no response).",
	}, []string{"server", "status"})
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wso2sync_api_retries_total", Help: "API calls retried (5xx, 429, transport errors, expired tokens).",
	})
	m.concurrency = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_limiter_concurrency", Help: "Concurrent requests the adaptive limiter allows per server, at the end of the last pass.",
	}, []string{"server"})
	m.lastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wso2sync_last_success_timestamp_seconds", Help: "Unix time the last successful pass ended.",
	})
	m.lastPass = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wso2sync_last_pass_timestamp_seconds", Help: "Unix time the last pass ended.",
	})
	m.revision = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_source_revision_info", Help: "The revision of the last pass (value 1).",
	}, []string{"source", "url", "ref", "path", "commit"})
	m.certExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wso2sync_certificate_expiry_seconds", Help: "Seconds until a managed certificate expires (negative: expired); divide by 86400 for days.",
	}, []string{"name"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wso2sync_webhook_requests_total", Help: "POST /sync requests, by result (accepted, ignored, unauthorized, too_large, disabled, bad_request, replayed).",
	}, []string{"result"})
	m.coalesced = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "wso2sync_pass_requests_coalesced_total", Help: "Pass requests folded into an already queued pass.",
	}, coalesced)
	m.consecFailure = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wso2sync_consecutive_failures", Help: "Failed passes since the last good one.",
	}, failures)
	m.reg.MustRegister(m.passes, m.duration, m.inProgress, m.applied, m.drift, m.driftNow, m.unmanaged,
		m.planChanges, m.calls, m.retries, m.concurrency, m.lastSuccess, m.lastPass, m.revision,
		m.certExpiry, m.webhooks, m.coalesced, m.consecFailure,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.verify = newVerifyMetrics(m.reg)
	for _, r := range []string{ResultSuccess, ResultFailure, ResultInvalid, ResultTimeout} {
		m.passes.WithLabelValues(r)
	}
	return m
}

// observe records a finished pass.
func (m *metrics) observe(p *PassStatus, now time.Time) {
	m.passes.WithLabelValues(p.Result).Inc()
	m.duration.Observe(time.Duration(p.Duration).Seconds())
	m.lastPass.Set(float64(p.End.Unix()))
	if p.Result == ResultSuccess {
		m.lastSuccess.Set(float64(p.End.Unix()))
	}
	r := p.Revision
	m.revision.Reset()
	m.revision.WithLabelValues(r.Source, r.URL, r.Ref, r.Path, r.Commit).Set(1)
	res := p.PassResult
	m.verify.observe(res.Verify, p.End)
	for kind, byAction := range res.Applied {
		for action, n := range byAction {
			m.applied.WithLabelValues(kind, action).Add(float64(n))
		}
	}
	for _, c := range res.Calls {
		m.calls.WithLabelValues(c.Server, c.Status).Add(float64(c.Count))
	}
	m.retries.Add(float64(res.Retries))
	if p.Result == ResultInvalid || (p.Result != ResultSuccess && res.Plan == (PlanSummary{}) && len(res.Drift) == 0) {
		// Nothing was compared: keep the last pass's gauges.
		return
	}
	m.driftNow.Reset()
	for kind, n := range res.Drift {
		m.drift.WithLabelValues(kind).Add(float64(n))
		m.driftNow.WithLabelValues(kind).Set(float64(n))
	}
	m.unmanaged.Reset()
	for _, u := range res.Unmanaged {
		m.unmanaged.WithLabelValues(u.Kind).Inc()
	}
	s := res.Plan
	for action, n := range map[string]int{"create": s.Create, "update": s.Update, "replace": s.Replace, "delete": s.Delete, "noop": s.NoOp} {
		m.planChanges.WithLabelValues(action).Set(float64(n))
	}
	for server, n := range res.Concurrency {
		m.concurrency.WithLabelValues(server).Set(float64(n))
	}
	if len(res.Certificates) > 0 {
		m.certExpiry.Reset()
		for _, c := range res.Certificates {
			m.certExpiry.WithLabelValues(c.Name).Set(c.NotAfter.Sub(now).Seconds())
		}
	}
}
