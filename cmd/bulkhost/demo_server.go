package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// restoreServer gives this run's fake server the requests a resumed demo
// journal names: the fake server of the run that wrote them ended with
// it. The numbers of each request are sent again as one request (by a
// client of its own, outside the engine) and, once the server has made
// their orders, sids is told which of its SIDs stand for which of the
// journal's: the engine sees the journal's SIDs in every answer, as if the
// server had kept them. The journal is read, never written. A real
// migration never does this: Twilio keeps its requests.
func (c *cli) restoreServer(ctx context.Context, st migrate.Store, srv *hostednumberstest.Server, sids *sidTranslator, cfg *config) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return err
	}
	client := srv.Client(hostednumbers.WithTimeout(cfg.attemptTimeout))
	defer client.CloseIdleConnections()
	type request struct {
		sid     string // the journal's
		numbers []migrate.NumberState
	}
	var requests []request
	for i := 1; i <= meta.Batches; i++ {
		b, err := st.Batch(ctx, i)
		if err != nil {
			return err
		}
		if len(b.BulkHostingSIDs) == 0 {
			continue
		}
		numbers, err := st.Numbers(ctx, i)
		if err != nil {
			return err
		}
		for _, sid := range b.BulkHostingSIDs {
			r := request{sid: sid}
			for _, n := range numbers {
				if n.BulkHostingSID == sid {
					r.numbers = append(r.numbers, n)
				}
			}
			if len(r.numbers) > 0 {
				requests = append(requests, r)
			}
		}
	}
	if len(requests) == 0 {
		return nil
	}
	fmt.Fprintf(c.stderr, "bulkhost: (demo) the fake server of the run that wrote this journal ended with it: its %d request%s %s re-created on this run's fake server, "+
		"whose answers carry the journal's SIDs, as Twilio would have kept them (the journal is not changed); waiting for the server to process them.\n",
		len(requests), plural(len(requests)), map[bool]string{true: "is", false: "are"}[len(requests) == 1])
	toServer := make(map[string]string)
	for _, r := range requests {
		settings := make([]hostednumbers.Number, len(r.numbers))
		for k, n := range r.numbers {
			settings[k] = n.Number
		}
		order, err := client.BulkHostedNumberOrders.Create(ctx, meta.Contact.Params(settings))
		if err != nil {
			return err
		}
		if _, err := client.BulkHostedNumberOrders.Wait(ctx, order.BulkHostingSID, &hostednumbers.WaitOptions{PollInterval: cfg.poll}); err != nil {
			return err
		}
		toServer[r.sid] = order.BulkHostingSID
		made := make(map[string]hostednumbers.HostedNumberOrder)
		for _, o := range srv.HostedNumberOrders() {
			if o.BulkHostingRequestSID.String == order.BulkHostingSID {
				made[o.PhoneNumber] = o
			}
		}
		for _, n := range r.numbers {
			o, ok := made[n.PhoneNumber()]
			if !ok {
				continue
			}
			if n.HostingOrderSID != "" {
				toServer[n.HostingOrderSID] = o.SID
			}
			if n.SigningDocumentSID != "" && o.SigningDocumentSID.String != "" {
				toServer[n.SigningDocumentSID] = o.SigningDocumentSID.String
			}
		}
	}
	sids.set(toServer)
	return nil
}

// sidTranslator is the demo client's transport: it sends requests with
// the journal's SIDs replaced by the fake server's, and returns answers
// with the server's SIDs replaced by the journal's. A SID is 34 letters
// and digits, so no other text of a request or answer is one.
type sidTranslator struct {
	next http.RoundTripper

	mu                  sync.Mutex
	toServer, toJournal *strings.Replacer // nil: nothing to translate
}

// set makes the transport translate each journal SID of toServer to the
// server's SID it maps to, and back.
func (t *sidTranslator) set(toServer map[string]string) {
	var in, out []string
	for journal, server := range toServer {
		in = append(in, journal, server)
		out = append(out, server, journal)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.toServer, t.toJournal = strings.NewReplacer(in...), strings.NewReplacer(out...)
}

// RoundTrip implements http.RoundTripper.
func (t *sidTranslator) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	toServer, toJournal := t.toServer, t.toJournal
	t.mu.Unlock()
	if toServer == nil {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	u := *req.URL
	u.Path, u.RawPath, u.RawQuery = toServer.Replace(u.Path), "", toServer.Replace(u.RawQuery)
	r.URL = &u
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		_ = req.Body.Close() // read whole
		if err != nil {
			return nil, err
		}
		body := []byte(toServer.Replace(string(data)))
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // read whole
	if err != nil {
		return nil, err
	}
	body := []byte(toJournal.Replace(string(data)))
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
