package hostednumbers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// ErrForeignNextPage is returned when a list response names a next page that is not on the
// client's own API origin (scheme and host of its base URL). The SDK does
// not follow it, so the credentials it sends with every request never go to
// another host.
var ErrForeignNextPage = errors.New("hostednumbers: next page is not on the client's API origin")

// maxEmptyPages is how many pages in a row without an item All follows
// before it takes the listing for a loop: Twilio's lists end with their
// last non-empty page.
const maxEmptyPages = 10

// ErrPageLoop is returned when a list's next_page_url leads back to a page
// the same listing has already fetched (two pages naming each other, a
// page naming itself under another spelling of its URL): following it
// would fetch the same pages for ever. An All loop also stops with it after
// more than ten pages in a row without an item that each name another
// page, since the caller's loop never runs and could not break. The error
// is a *DecodeError about the page that named it, and says which listing it
// was.
var ErrPageLoop = errors.New("hostednumbers: next page leads back to a page this listing already fetched")

// PageMeta is the meta object of a list response: where this page is and
// where the next one is. The SDK follows NextPageURL exactly as given.
type PageMeta struct {
	// FirstPageURL is the address of the list's first page.
	FirstPageURL string `json:"first_page_url"`
	// Key names the member of the response that holds the items ("items").
	Key string `json:"key"`
	// NextPageURL is the address of the next page; not Valid on the last
	// page.
	NextPageURL NullString `json:"next_page_url"`
	// Page is this page's number, counting from 0.
	Page int `json:"page"`
	// PageSize is the most items a page of this list holds.
	PageSize int `json:"page_size"`
	// PreviousPageURL is the address of the page before; not Valid on the
	// first page.
	PreviousPageURL NullString `json:"previous_page_url"`
	// URL is this page's own address.
	URL string `json:"url"`
}

// Page is one page of a list: its items, the API's paging metadata, and
// the HTTP exchange that returned it. Next fetches the page after it;
// All iterates over the items of this page and every page after it.
//
// A client's List returns pages; code that stands in for the API (a mock
// of HostedNumberOrdersAPI, a cache) builds them with NewPage.
type Page[T any] struct {
	// Items are the resources on this page, in the order the API listed
	// them.
	Items []T
	// Meta is the API's paging metadata for this page.
	Meta PageMeta
	// LastResponse describes the HTTP exchange that returned this page.
	LastResponse *Response

	client *Client
	op     string     // "list hosted number orders": the prefix of every error
	trail  *pageTrail // the URLs this listing fetched up to this page
	call   request    // the first page's request: op and template for the hooks
	opts   []CallOption

	// made is set by NewPage: next, if not nil, gives the page after.
	made bool
	next func(context.Context, ...CallOption) (*Page[T], error)
}

// NewPage returns a page holding items whose Next calls next; a nil next
// makes it the last page. It is for code that stands in for the API, such
// as a mock of HostedNumberOrdersAPI or AuthorizationDocumentsAPI: its
// List can return NewPage(...) and its All can be page.All(ctx), so the
// two agree by construction. Next and All work on it as on a page from a
// client; Meta and LastResponse are the caller's to set, and HasNext
// reports whether next is set. hostednumberstest.Pages builds the pages
// of a whole slice. next gets the CallOptions given to Next or All (none
// if none were given).
func NewPage[T any](items []T, next func(ctx context.Context, opts ...CallOption) (*Page[T], error)) *Page[T] {
	return &Page[T]{Items: items, made: true, next: next}
}

// HasNext reports whether there is a page after this one: for a page from
// a client, whether the API named one.
func (p *Page[T]) HasNext() bool {
	if p == nil {
		return false
	}
	if p.made {
		return p.next != nil
	}
	return p.Meta.NextPageURL.Valid && p.Meta.NextPageURL.String != ""
}

// Next fetches the page after p by following Meta.NextPageURL exactly as
// the API gave it. After the last page it returns nil and no error, so a
// loop can run while the page is not nil. A next page on another origin
// than the client's base URL is refused without a request, with an error
// matching ErrForeignNextPage. A next page that leads back to a page of the
// same listing (the URL it was fetched by, compared after normalising
// scheme and host case, default ports, escapes and the order of query
// parameters) is refused without a request, with an error matching
// ErrPageLoop, whatever the pages' meta.url say. On a page made by
// NewPage, Next calls its next function with opts.
//
// opts apply to the fetch of the next page; without any, a client's page
// is fetched with the CallOptions its List (or All) was given.
func (p *Page[T]) Next(ctx context.Context, opts ...CallOption) (*Page[T], error) {
	return p.follow(ctx, nil, opts)
}

// follow is Next. seen, when not nil, holds every URL hash of p's trail
// with its position (allItems keeps it, to look a URL up without walking
// the trail); follow adds the page it fetches.
func (p *Page[T]) follow(ctx context.Context, seen map[uint64]int, opts []CallOption) (*Page[T], error) {
	if !p.HasNext() {
		return nil, nil
	}
	if p.made {
		if ctx == nil {
			return nil, fmt.Errorf("hostednumbers: next page: %w", errNilContext)
		}
		return p.next(ctx, opts...)
	}
	if len(opts) == 0 {
		opts = p.opts
	}
	if p.client == nil {
		return nil, errors.New("hostednumbers: next page: the page was not returned by a client; build pages with NewPage")
	}
	next, err := p.client.onOrigin(p.Meta.NextPageURL.String)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: %s: page %d: %w", p.op, p.Meta.Page+1, err)
	}
	h := p.trail.hash(next)
	var at int
	var repeat bool
	if seen != nil {
		at, repeat = seen[h]
	} else {
		at, repeat = p.trail.find(h)
	}
	if repeat || next == p.Meta.URL {
		reason := fmt.Sprintf("next_page_url of page %d leads back to page %d of this listing", p.trail.position(), at)
		if !repeat {
			reason = "next_page_url names this page again"
		}
		return nil, fmt.Errorf("hostednumbers: %s: page %d: %w", p.op, p.trail.position()+1, &DecodeError{
			HTTPStatus: p.LastResponse.statusCode(), RequestID: p.LastResponse.requestID(),
			Err: &pageLoopError{reason},
		})
	}
	page, err := fetchPageOf[T](ctx, p.client, p.op,
		request{op: p.call.op, template: p.call.template, method: http.MethodGet, rawURL: next}, p.trail.add(h), opts)
	if err == nil && seen != nil {
		seen[h] = page.trail.position()
	}
	return page, err
}

// pageLoopError is a next page that leads back into the listing; it
// matches ErrPageLoop.
type pageLoopError struct{ reason string }

func (e *pageLoopError) Error() string { return e.reason + ": paging stopped" }

// Is makes errors.Is(err, ErrPageLoop) match.
func (e *pageLoopError) Is(target error) bool { return target == ErrPageLoop }

// pageTrail is what a page remembers of its listing: a hash of the URL
// each page up to it was fetched by (normalised), newest first. The pages
// of one listing share the trail before them, so it costs one small node
// per page, and a page's trail holds only the pages that led to it:
// calling Next twice on a page, or running All again from an earlier
// page, is not a loop.
type pageTrail struct {
	seed maphash.Seed
	sum  uint64
	at   int // the page's position in the listing, from 0
	prev *pageTrail
}

// newTrail starts the trail of a listing at its first page's URL.
func newTrail(firstURL string) *pageTrail {
	t := &pageTrail{seed: maphash.MakeSeed()}
	t.sum = t.hash(firstURL)
	return t
}

// hash is the hash of a URL after normalisation, under the listing's seed.
func (t *pageTrail) hash(rawURL string) uint64 {
	return maphash.String(t.seed, normalizeURL(rawURL))
}

// add returns the trail of the page after t, fetched by the URL whose hash
// is sum.
func (t *pageTrail) add(sum uint64) *pageTrail {
	return &pageTrail{seed: t.seed, sum: sum, at: t.at + 1, prev: t}
}

// find returns the position of the page fetched by the URL whose hash is
// sum, if the trail has one.
func (t *pageTrail) find(sum uint64) (int, bool) {
	for ; t != nil; t = t.prev {
		if t.sum == sum {
			return t.at, true
		}
	}
	return -1, false
}

func (t *pageTrail) position() int {
	if t == nil {
		return 0
	}
	return t.at
}

// index returns every hash of the trail with its position.
func (t *pageTrail) index() map[uint64]int {
	seen := make(map[uint64]int, t.position()+1)
	for ; t != nil; t = t.prev {
		if _, dup := seen[t.sum]; !dup {
			seen[t.sum] = t.at
		}
	}
	return seen
}

// normalizeURL returns the form of a URL two spellings of the same page
// share: scheme and host in lower case, no default port, the path with
// its escapes decoded, query parameters sorted and escaped one way, and
// no fragment. A URL that does not parse is returned as it is.
func normalizeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteString("://")
	b.WriteString(strings.ToLower(u.Hostname()))
	if port := u.Port(); port != "" && port != defaultPort(u.Scheme) {
		b.WriteByte(':')
		b.WriteString(port)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if u.RawQuery != "" {
		b.WriteByte('?')
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			b.WriteString(q.Encode())
		} else {
			b.WriteString(u.RawQuery)
		}
	}
	return b.String()
}

// All iterates over the items of p and of every page after it, as
// pointers into each page's Items (the element type Fetch returns). A
// page is fetched only when the loop reaches it; breaking out of the loop
// stops there without another request. A failed fetch is yielded once,
// with a nil item, and ends the iteration. opts apply to the pages after p, as
// for Next.
func (p *Page[T]) All(ctx context.Context, opts ...CallOption) iter.Seq2[*T, error] {
	return allItems(ctx, func(context.Context) (*Page[T], error) { return p, nil }, opts)
}

// allItems is the one iterator every list uses: first fetches the first
// page (when the loop starts, not before), and the pages after it are
// followed as Next does, with opts.
func allItems[T any](ctx context.Context, first func(context.Context) (*Page[T], error), opts []CallOption) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		page, err := first(ctx)
		var seen map[uint64]int
		empty := 0 // pages in a row without an item
		for {
			if err != nil {
				yield(nil, err)
				return
			}
			if page == nil {
				return
			}
			if empty = empty + 1; len(page.Items) > 0 {
				empty = 0
			}
			if empty > maxEmptyPages && page.HasNext() {
				// Each page names a new one and none has an item, so the
				// caller's loop never runs and cannot break: stop here.
				yield(nil, fmt.Errorf("hostednumbers: %s: page %d: %w", page.op, page.trail.position()+1, &DecodeError{
					HTTPStatus: page.LastResponse.statusCode(), RequestID: page.LastResponse.requestID(),
					Err: &pageLoopError{fmt.Sprintf("%d pages in a row without an item, each naming another", empty)},
				}))
				return
			}
			for i := range page.Items {
				if !yield(&page.Items[i], nil) {
					return
				}
			}
			if seen == nil && page.trail != nil {
				seen = page.trail.index()
			}
			page, err = page.follow(ctx, seen, opts)
		}
	}
}

// listRequest is the GET of a list's first page: op and template name
// the listing for the hooks.
func listRequest(op, template, path string, query url.Values) request {
	return request{op: op, template: template, method: http.MethodGet, path: path, query: query.Encode()}
}

// fetchPage sends r and decodes one page of T. Each item that has a check
// method is checked (a response with an unusable item is a *DecodeError),
// and each item that carries a LastResponse gets the page's.
func fetchPage[T any](ctx context.Context, c *Client, op string, r request, opts []CallOption) (*Page[T], error) {
	return fetchPageOf[T](ctx, c, op, r, nil, opts)
}

// fetchPageOf is fetchPage for a page of a listing whose trail, up to and
// including this page, is trail; nil starts a listing at r.
func fetchPageOf[T any](ctx context.Context, c *Client, op string, r request, trail *pageTrail, opts []CallOption) (*Page[T], error) {
	var w pageWire[T]
	meta, err := c.do(ctx, r, &w, opts)
	if err != nil {
		if r.rawURL != "" {
			return nil, fmt.Errorf("hostednumbers: %s: next page: %w", op, err)
		}
		return nil, fmt.Errorf("hostednumbers: %s: %w", op, err)
	}
	for i := range w.items {
		if s, ok := any(&w.items[i]).(interface{ setLastResponse(*Response) }); ok {
			s.setLastResponse(meta)
		}
	}
	if trail == nil {
		trail = newTrail(c.baseURL + r.path + "?" + r.query)
	}
	return &Page[T]{Items: w.items, Meta: w.meta, LastResponse: meta, client: c, op: op, trail: trail,
		call: request{op: r.op, template: r.template}, opts: opts}, nil
}

// pageWire is what a list response decodes into. The items sit in the
// member meta.key names, "items" for every list of this API.
type pageWire[T any] struct {
	meta    PageMeta
	items   []T
	hasMeta bool
}

// UnmarshalJSON decodes {"meta": {...}, "<key>": [...]}.
func (w *pageWire[T]) UnmarshalJSON(data []byte) error {
	var doc struct {
		Meta  *PageMeta `json:"meta"`
		Items []T       `json:"items"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	if doc.Meta == nil {
		return errors.New("list response has no meta object")
	}
	w.meta, w.items, w.hasMeta = *doc.Meta, doc.Items, true
	if key := doc.Meta.Key; key != "" && key != "items" {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			return err
		}
		raw, ok := members[key]
		if !ok {
			return fmt.Errorf("list response has no %s member, which meta.key names", quoteShort(key))
		}
		w.items = nil
		if err := json.Unmarshal(raw, &w.items); err != nil {
			return err
		}
	}
	return nil
}

// check is run by the client on every decoded page.
func (w *pageWire[T]) check() error {
	if !w.hasMeta {
		return errors.New("list response has no meta object")
	}
	for i := range w.items {
		if c, ok := any(&w.items[i]).(interface{ check() error }); ok {
			if err := c.check(); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	}
	return nil
}

// onOrigin returns the URL to request for a next_page_url the API gave:
// the URL exactly as given when it is absolute, resolved against the base
// URL when it is a path. It must be on the client's origin (same scheme,
// host and port as the base URL) and carry no user information; otherwise
// the error matches ErrForeignNextPage.
func (c *Client) onOrigin(raw string) (string, error) {
	base, err := url.Parse(c.baseURL)
	if err != nil {
		return "", fmt.Errorf("base URL: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the whole URL; say less.
		return "", &foreignNextPageError{"next_page_url is not a valid URL"}
	}
	if !u.IsAbs() && u.Host == "" {
		if !strings.HasPrefix(raw, "/") {
			return "", &foreignNextPageError{"next_page_url " + quoteShort(raw) + " is neither absolute nor a path"}
		}
		u = base.ResolveReference(u)
		raw = u.String()
	}
	switch {
	case u.User != nil:
		return "", &foreignNextPageError{"next_page_url carries user information"}
	case !strings.EqualFold(u.Scheme, base.Scheme), !strings.EqualFold(u.Hostname(), base.Hostname()),
		effectivePort(u) != effectivePort(base):
		return "", &foreignNextPageError{fmt.Sprintf("next_page_url is on %s, not the client's API origin %s",
			quoteShort(u.Scheme+"://"+u.Host), base.Scheme+"://"+base.Host)}
	}
	return raw, nil
}

// foreignNextPageError is a next page the SDK refused to follow; it
// matches ErrForeignNextPage.
type foreignNextPageError struct{ reason string }

func (e *foreignNextPageError) Error() string { return "next page not followed: " + e.reason }

// Is makes errors.Is(err, ErrForeignNextPage) match.
func (e *foreignNextPageError) Is(target error) bool { return target == ErrForeignNextPage }

// effectivePort is u's port, or its scheme's default port.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort(u.Scheme)
}

// defaultPort is the port of scheme when a URL names none.
func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func (r *Response) statusCode() int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

func (r *Response) requestID() string {
	if r == nil {
		return ""
	}
	return r.RequestID
}
