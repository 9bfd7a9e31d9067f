package apim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// apiSearchResult is the Publisher v4 APISearchResult.
type apiSearchResult struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	TransportType   string `json:"transportType"`
	Description     string `json:"description,omitempty"`
	Context         string `json:"context"`
	ContextTemplate string `json:"contextTemplate"`
	Version         string `json:"version"`
	Provider        string `json:"provider"`
	Status          string `json:"status"`
	HasThumbnail    bool   `json:"hasThumbnail"`
}

// handlePublisherSearch answers the unified search GET /search?query=…:
// APIs (the simulator has no API products, MCP servers or documents)
// matching every term, by name. WSO2's apictl finds the API of `get keys`
// with it: query `name:"N" version:"V"` and optionally `provider:"P"`,
// then the same with `type:"APIProduct"` and `type:"MCP"`
// (product-apim-tooling import-export-cli/impl/getKeys.go,
// getApiOrApiProductByType). Subject to the search-index lag (§5.1).
func (s *Server) handlePublisherSearch(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query().Get("query")
	terms := parseAPIQuery(q)
	// A type term other than API selects artifacts the simulator does not
	// have (APIProduct, MCP, DOC): nothing matches.
	onlyAPIs := true
	terms = slices.DeleteFunc(terms, func(t queryTerm) bool {
		if t.attr != "type" {
			return false
		}
		if t.value != "api" && t.value != "http" {
			onlyAPIs = false
		}
		return true
	})
	var sel []apiSearchResult
	if onlyAPIs {
		s.mu.Lock()
		hidden := s.hiddenAPIs()
		for _, a := range s.st.apiSorted {
			if _, h := hidden[a.ID]; h || !matchAPI(a, terms) {
				continue
			}
			sel = append(sel, apiSearchResult{ID: a.ID, Name: a.Name, Type: "API", TransportType: "HTTP",
				Description: a.Description, Context: a.Context,
				ContextTemplate: strings.TrimSuffix(a.Context, "/"+a.Version) + "/{version}",
				Version:         a.Version, Provider: a.Provider, Status: a.LifeCycleStatus})
		}
		s.mu.Unlock()
	}
	page, pg := paginate(sel, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/search?limit=%d&offset=%d&query=%s", l, o, url.QueryEscape(q))
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}
