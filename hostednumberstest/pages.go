package hostednumberstest

import (
	"context"
	"iter"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
)

// Pages returns the first of the pages that hold items, pageSize at a time
// (DefaultPageSize for 0 or less), in order. Each page's Next returns the
// page after it and nil after the last, so a mock's List can return
// Pages(items, params.PageSize) and its All can be that page's All: the
// two then agree by construction. Each page's Meta has its Page number,
// PageSize and Key ("items"), as the API fills them; the URLs stay empty.
// An empty or nil items gives one empty page. The pages share items'
// backing array (as page.Items); they are built as Next reaches them.
func Pages[T any](items []T, pageSize int) *hostednumbers.Page[T] {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	return pageAt(items, pageSize, 0)
}

// pageAt builds page number n (from 0) of items.
func pageAt[T any](items []T, pageSize, n int) *hostednumbers.Page[T] {
	start := min(n*pageSize, len(items))
	end := min(start+pageSize, len(items))
	var next func(context.Context, ...hostednumbers.CallOption) (*hostednumbers.Page[T], error)
	if end < len(items) {
		next = func(ctx context.Context, _ ...hostednumbers.CallOption) (*hostednumbers.Page[T], error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return pageAt(items, pageSize, n+1), nil
		}
	}
	page := hostednumbers.NewPage(items[start:end:end], next)
	page.Meta = hostednumbers.PageMeta{Key: "items", Page: n, PageSize: pageSize}
	return page
}

// Seq returns an iterator over items, as a service's All yields them:
// a pointer to each item (into items) with a nil error, then, if err is
// not nil, a nil item with err once (a failed page, for a test of the
// caller's error handling). It stops when the loop breaks.
func Seq[T any](items []T, err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for i := range items {
			if !yield(&items[i], nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}
