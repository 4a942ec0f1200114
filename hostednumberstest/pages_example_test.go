package hostednumberstest_test

import (
	"context"
	"fmt"
	"iter"

	hostednumbers "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

// documentsMock stands in for the authorisation documents API: List pages
// a slice with Pages, and All is the first page's All, so the two always
// agree.
type documentsMock struct {
	hostednumbers.AuthorizationDocumentsAPI
	docs []hostednumbers.AuthorizationDocument
}

func (m *documentsMock) List(_ context.Context, p *hostednumbers.ListAuthorizationDocumentsParams, _ ...hostednumbers.CallOption) (*hostednumbers.Page[hostednumbers.AuthorizationDocument], error) {
	size := 0
	if p != nil {
		size = p.PageSize
	}
	return hostednumberstest.Pages(m.docs, size), nil
}

func (m *documentsMock) All(ctx context.Context, p *hostednumbers.ListAuthorizationDocumentsParams, opts ...hostednumbers.CallOption) iter.Seq2[*hostednumbers.AuthorizationDocument, error] {
	page, err := m.List(ctx, p, opts...)
	if err != nil {
		return hostednumberstest.Seq[hostednumbers.AuthorizationDocument](nil, err)
	}
	return page.All(ctx, opts...)
}

func ExamplePages() {
	var api hostednumbers.AuthorizationDocumentsAPI = &documentsMock{docs: []hostednumbers.AuthorizationDocument{
		{SID: "PX00000000000000000000000000000001", Status: hostednumbers.AuthorizationDocumentStatusSigned},
		{SID: "PX00000000000000000000000000000002", Status: hostednumbers.AuthorizationDocumentStatusOpened},
		{SID: "PX00000000000000000000000000000003", Status: hostednumbers.AuthorizationDocumentStatusSigning},
	}}
	ctx := context.Background()

	page, _ := api.List(ctx, &hostednumbers.ListAuthorizationDocumentsParams{PageSize: 2})
	for page != nil {
		fmt.Println("page", page.Meta.Page, "holds", len(page.Items))
		page, _ = page.Next(ctx)
	}
	for doc, err := range api.All(ctx, nil) {
		if err != nil {
			panic(err)
		}
		fmt.Println(doc.SID, doc.Status, doc.Status.Unsigned())
	}
	// Output:
	// page 0 holds 2
	// page 1 holds 1
	// PX00000000000000000000000000000001 signed false
	// PX00000000000000000000000000000002 opened true
	// PX00000000000000000000000000000003 signing true
}
