package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// KnobsConfig is the JSON form of the in-handler knobs.
type KnobsConfig struct {
	// Workflow turns approval-workflow mode on (apps CREATED, subscriptions
	// ON_HOLD, deletes 202, …; WSO2-API.md §5.3).
	Workflow bool `json:"workflow"`
	// SearchLag keeps APIs created from now on out of API lists and
	// searches for this long, a Go duration such as "2s" (APIM's
	// search-index lag, §5.1; applications have none).
	SearchLag string `json:"searchLag"`
	// PageCaps silently cap the page size of each list family (0: the
	// real server's default), to exercise the clients' paging.
	PageCaps simcore.PageCaps `json:"pageCaps"`
}

// controlHandler serves the /_sim/ control API (the same on both
// listeners). It has no authentication: the simulator is a local test tool.
//
//	GET  /_sim/stats                     counters (Stats)
//	POST /_sim/reset[?scope=all|state|counters]   default all
//	GET  /_sim/state                     both servers' data (State)
//	GET  /_sim/log[?limit=N]             request log, oldest first
//	GET  /_sim/faults                    FaultConfig (+ "spec" in --faults syntax)
//	PUT  /_sim/faults                    JSON FaultConfig, or text/plain --faults syntax
//	DELETE /_sim/faults                  clear faults
//	POST /_sim/expire-tokens             expire every issued token (both servers)
//	GET|PUT /_sim/knobs                  KnobsConfig
//	POST /_sim/clock/advance?by=1h       only with a *simcore.ManualClock
//	GET  /_sim/ca.pem                    the TLS certificate (404 without TLS)
func (s *Sim) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch scope := r.URL.Query().Get("scope"); scope {
		case "", "all":
			err = s.Reset()
		case "state":
			err = s.ResetState()
		case "counters":
			s.ResetCounters()
		default:
			controlError(w, http.StatusBadRequest, fmt.Sprintf("scope %q: want all, state or counters", scope))
			return
		}
		if err != nil {
			controlError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/state", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, s.Dump())
	})
	mux.HandleFunc("GET /_sim/log", func(w http.ResponseWriter, r *http.Request) {
		limit := 0
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				controlError(w, http.StatusBadRequest, "limit: want a non-negative integer")
				return
			}
			limit = n
		}
		writeControlJSON(w, http.StatusOK, s.Log(limit))
	})
	faultsOut := func(w http.ResponseWriter) {
		cfg := s.faults.Config()
		writeControlJSON(w, http.StatusOK, struct {
			FaultConfig
			Spec string `json:"spec"`
		}{cfg, cfg.String()})
	}
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) { faultsOut(w) })
	mux.HandleFunc("PUT /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var cfg FaultConfig
		if mt == "text/plain" {
			cfg, err = ParseFaults(string(body))
		} else {
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			var in struct {
				FaultConfig
				Spec string `json:"spec"`
			}
			if err = dec.Decode(&in); err == nil {
				cfg = in.FaultConfig
				if in.Spec != "" && len(cfg.Rules) == 0 {
					cfg, err = ParseFaults(in.Spec)
				}
			}
		}
		if err == nil {
			err = s.faults.Set(cfg)
		}
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		faultsOut(w)
	})
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/expire-tokens", func(w http.ResponseWriter, r *http.Request) {
		s.ExpireTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	knobsOut := func(w http.ResponseWriter) {
		writeControlJSON(w, http.StatusOK, KnobsConfig{Workflow: s.knobs.Workflow(), SearchLag: s.knobs.SearchLag().String(), PageCaps: s.knobs.PageCaps()})
	}
	mux.HandleFunc("GET /_sim/knobs", func(w http.ResponseWriter, r *http.Request) { knobsOut(w) })
	mux.HandleFunc("PUT /_sim/knobs", func(w http.ResponseWriter, r *http.Request) {
		in := KnobsConfig{Workflow: s.knobs.Workflow(), SearchLag: s.knobs.SearchLag().String(), PageCaps: s.knobs.PageCaps()}
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		lag, err := time.ParseDuration(in.SearchLag)
		if err != nil || lag < 0 {
			controlError(w, http.StatusBadRequest, "searchLag must be a non-negative duration such as \"2s\"")
			return
		}
		if c := in.PageCaps; c.APIM < 0 || c.SCIM < 0 || c.ISApplications < 0 {
			controlError(w, http.StatusBadRequest, "pageCaps must not be negative")
			return
		}
		s.knobs.SetPageCaps(in.PageCaps)
		s.knobs.SetWorkflow(in.Workflow)
		s.knobs.SetSearchLag(lag)
		knobsOut(w)
	})
	mux.HandleFunc("POST /_sim/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		mc, ok := s.clock.(*simcore.ManualClock)
		if !ok {
			controlError(w, http.StatusConflict, "the simulator runs on the wall clock")
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			controlError(w, http.StatusBadRequest, "by: want a non-negative duration such as 1h")
			return
		}
		mc.Advance(d)
		writeControlJSON(w, http.StatusOK, map[string]string{"now": mc.Now().UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("GET /_sim/ca.pem", func(w http.ResponseWriter, r *http.Request) {
		pem := s.CACertPEM()
		if pem == nil {
			controlError(w, http.StatusNotFound, "the simulator is not serving TLS")
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(pem)
	})
	return mux
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeControlJSON(w, status, map[string]string{"error": msg})
}
