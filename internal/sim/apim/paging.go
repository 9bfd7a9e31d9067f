package apim

import (
	"net/http"
	"strconv"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

const defaultLimit = 25

// pageParams reads limit (default 25, silently capped by the APIM page
// cap knob) and offset (default 0).
func (s *Server) pageParams(w http.ResponseWriter, r *http.Request) (limit, offset int, ok bool) {
	limit, offset, ok = readPageParams(w, r)
	return simcore.CapPage(limit, s.opts.Knobs.PageCaps().APIM), offset, ok
}

func readPageParams(w http.ResponseWriter, r *http.Request) (limit, offset int, ok bool) {
	limit, offset = defaultLimit, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, "Invalid limit value "+v)
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, "Invalid offset value "+v)
			return 0, 0, false
		}
		offset = n
	}
	if limit == 0 {
		limit = defaultLimit
	}
	return limit, offset, true
}

// pagination builds the spec's Pagination for a page of total items: next
// and previous are relative links ("" when absent), as RestApiCommonUtil
// computes them.
func pagination(total, limit, offset int, link func(limit, offset int) string) Pagination {
	p := Pagination{Offset: offset, Limit: limit, Total: total}
	if offset+limit < total {
		p.Next = link(limit, offset+limit)
	}
	if offset > 0 {
		prev := max(offset-limit, 0)
		p.Previous = link(limit, prev)
	}
	return p
}

// paginate cuts one page out of list.
func paginate[T any](list []T, limit, offset int, link func(limit, offset int) string) ([]T, Pagination) {
	total := len(list)
	start := min(offset, total)
	end := min(start+limit, total)
	page := list[start:end]
	if page == nil {
		page = []T{}
	}
	return page, pagination(total, limit, offset, link)
}
