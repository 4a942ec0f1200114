package hostednumbers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
type Page[T any] struct {
	// Items are the resources on this page, in the order the API listed
	// them.
	Items []T
	// Meta is the API's paging metadata for this page.
	Meta PageMeta
	// LastResponse describes the HTTP exchange that returned this page.
	LastResponse *Response

	client *Client
	op     string // "list hosted number orders": the prefix of every error
}

// HasNext reports whether the API named a page after this one.
func (p *Page[T]) HasNext() bool {
	return p != nil && p.Meta.NextPageURL.Valid && p.Meta.NextPageURL.String != ""
}

// Next fetches the page after p by following Meta.NextPageURL exactly as
// the API gave it. After the last page it returns nil and no error, so a
// loop can run while the page is not nil. A next page on another origin
// than the client's base URL is refused without a request, with an error
// matching ErrForeignNextPage.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if !p.HasNext() {
		return nil, nil
	}
	if p.client == nil {
		return nil, errors.New("hostednumbers: next page: the page was not returned by a client")
	}
	next, err := p.client.onOrigin(p.Meta.NextPageURL.String)
	if err != nil {
		return nil, fmt.Errorf("hostednumbers: %s: page %d: %w", p.op, p.Meta.Page+1, err)
	}
	if next == p.Meta.URL {
		// A server that names the same page again would make All loop
		// for ever.
		return nil, fmt.Errorf("hostednumbers: %s: page %d: %w", p.op, p.Meta.Page+1, &DecodeError{
			HTTPStatus: p.LastResponse.statusCode(), RequestID: p.LastResponse.requestID(),
			Err: errors.New("next_page_url names this page again"),
		})
	}
	return fetchPage[T](ctx, p.client, p.op, request{method: http.MethodGet, rawURL: next})
}

// All iterates over the items of p and of every page after it. A page is
// fetched only when the loop reaches it; breaking out of the loop stops
// there without another request. A failed fetch is yielded once, with the
// zero T, and ends the iteration.
func (p *Page[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return allItems(ctx, func(context.Context) (*Page[T], error) { return p, nil })
}

// allItems is the one iterator every list uses: first fetches the first
// page (when the loop starts, not before), and the pages after it are
// followed through Next.
func allItems[T any](ctx context.Context, first func(context.Context) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		page, err := first(ctx)
		for {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if page == nil {
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
			page, err = page.Next(ctx)
		}
	}
}

// listRequest is the GET of a list's first page.
func listRequest(path string, query url.Values) request {
	return request{method: http.MethodGet, path: path, query: query.Encode()}
}

// fetchPage sends r and decodes one page of T. Each item that has a check
// method is checked (a response with an unusable item is a *DecodeError),
// and each item that carries a LastResponse gets the page's.
func fetchPage[T any](ctx context.Context, c *Client, op string, r request) (*Page[T], error) {
	var w pageWire[T]
	meta, err := c.do(ctx, r, &w)
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
	return &Page[T]{Items: w.items, Meta: w.meta, LastResponse: meta, client: c, op: op}, nil
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
	switch strings.ToLower(u.Scheme) {
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
