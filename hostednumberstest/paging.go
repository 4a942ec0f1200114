package hostednumberstest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Page sizes of the list endpoints, as Twilio documents them.
const (
	// DefaultPageSize is the page size of a list request that gives no
	// PageSize, unless WithPageSize says otherwise.
	DefaultPageSize = 50
	maxPageSize     = 1000
)

// Page tokens are Twilio's: PA then the position of the last item of the
// page before (the next page starts after it), or PB then the position of
// the first item of the page after (the previous page ends before it).
// Positions are SID counters, so pages stay right when items are added or
// cancelled between two requests.
const (
	tokenAfter  = "PA"
	tokenBefore = "PB"
)

// pageRequest is the paging part of a list query.
type pageRequest struct {
	size, page int
	token      string // as received, "" if none
	before     bool   // token is PB…
	position   uint64 // the token's position
}

// parsePage reads PageSize, Page and PageToken, answering 400 itself (and
// returning false) when one of them is invalid.
func (s *Server) parsePage(w http.ResponseWriter, q url.Values) (pageRequest, bool) {
	pr := pageRequest{size: s.cfg.pageSize}
	if raw, ok := q["PageSize"]; ok {
		n, err := strconv.Atoi(first(raw))
		switch {
		case err == nil && n > maxPageSize:
			writeInvalidParameterCode(w, codeMaxPageSize, "PageSize", "The maximum page size is "+strconv.Itoa(maxPageSize))
			return pr, false
		case err != nil || n < 1:
			writeInvalidParameter(w, "PageSize", "must be a whole number from 1 to "+strconv.Itoa(maxPageSize))
			return pr, false
		}
		pr.size = n
	}
	if raw, ok := q["Page"]; ok {
		n, err := strconv.Atoi(first(raw))
		if err != nil || n < 0 {
			writeInvalidParameter(w, "Page", "must be a whole number, 0 or more")
			return pr, false
		}
		pr.page = n
	}
	if raw, ok := q["PageToken"]; ok {
		pr.token = first(raw)
		prefix, hex := pr.token[:min(2, len(pr.token))], pr.token[min(2, len(pr.token)):]
		n, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || (prefix != tokenAfter && prefix != tokenBefore) {
			writeInvalidParameter(w, "PageToken", "is not a page token this server handed out")
			return pr, false
		}
		pr.before, pr.position = prefix == tokenBefore, n
	}
	return pr, true
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// paginate returns the page pr asks for out of items, which are sorted by
// position, and the bounds [start, end) it took.
func paginate(n int, position func(i int) uint64, pr pageRequest) (start, end int) {
	switch {
	case pr.token == "":
		start = n
		if pr.page <= n/pr.size { // so that page*size cannot overflow
			start = min(pr.page*pr.size, n)
		}
		end = min(start+pr.size, n)
	case pr.before:
		end = sort.Search(n, func(i int) bool { return position(i) >= pr.position })
		start = max(end-pr.size, 0)
	default:
		start = sort.Search(n, func(i int) bool { return position(i) > pr.position })
		end = min(start+pr.size, n)
	}
	return start, end
}

// metaJSON is the meta member of a Twilio list page.
type metaJSON struct {
	FirstPageURL    string  `json:"first_page_url"`
	Key             string  `json:"key"`
	NextPageURL     *string `json:"next_page_url"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
}

// listJSON is one page of a Twilio list.
type listJSON[T any] struct {
	Items []T      `json:"items"`
	Meta  metaJSON `json:"meta"`
}

// pageOf cuts the page pr asks for out of items (sorted by position),
// renders each with render, and links the page to its neighbours with
// absolute URLs on baseURL+path that keep the request's filters.
func pageOf[S, T any](baseURL, path string, q url.Values, pr pageRequest, items []S, position func(S) uint64, render func(S) T) listJSON[T] {
	start, end := paginate(len(items), func(i int) uint64 { return position(items[i]) }, pr)
	out := listJSON[T]{Items: make([]T, 0, end-start)}
	for _, it := range items[start:end] {
		out.Items = append(out.Items, render(it))
	}
	filters := make(url.Values, len(q))
	for k, v := range q {
		if k != "PageSize" && k != "Page" && k != "PageToken" {
			filters[k] = v
		}
	}
	pageURL := func(page int, token string) string {
		var b strings.Builder
		b.WriteString(baseURL + path + "?")
		if enc := filters.Encode(); enc != "" {
			b.WriteString(enc + "&")
		}
		b.WriteString("PageSize=" + strconv.Itoa(pr.size) + "&Page=" + strconv.Itoa(page))
		if token != "" {
			b.WriteString("&PageToken=" + url.QueryEscape(token))
		}
		return b.String()
	}
	page := pr.page
	out.Meta = metaJSON{
		FirstPageURL: pageURL(0, ""),
		Key:          "items",
		Page:         page,
		PageSize:     pr.size,
		URL:          pageURL(page, pr.token),
	}
	// boundary is the position of items[i], or one past the last item.
	boundary := func(i int) uint64 {
		if i < len(items) {
			return position(items[i])
		}
		return position(items[len(items)-1]) + 1
	}
	if end < len(items) {
		next := pageURL(page+1, tokenAfter+strconv.FormatUint(boundary(end)-1, 16))
		out.Meta.NextPageURL = &next
	}
	if start > 0 {
		prev := pageURL(max(page-1, 0), tokenBefore+strconv.FormatUint(boundary(start), 16))
		out.Meta.PreviousPageURL = &prev
	}
	return out
}

func writeInvalidParameter(w http.ResponseWriter, name, problem string) {
	writeInvalidParameterCode(w, codeInvalidParameter, name, problem)
}

// writeInvalidParameterCode is writeInvalidParameter with the Twilio code
// documented for this parameter's problem.
func writeInvalidParameterCode(w http.ResponseWriter, code int, name, problem string) {
	writeError(w, http.StatusBadRequest, code, "Invalid parameter "+name+": "+problem, map[string]any{"field": name})
}
