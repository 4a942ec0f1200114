package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// fetch shows an existing bulk hosting request, following it first with -wait.
func (c *cli) fetch(ctx context.Context, cfg *config) error {
	client, cleanup, err := c.client(cfg)
	if err != nil {
		return failed(err)
	}
	defer cleanup()
	if cfg.wait {
		return c.follow(ctx, client, cfg, cfg.fetchSID)
	}
	order, err := client.BulkHostedNumberOrders.Fetch(ctx, cfg.fetchSID, nil)
	if err != nil {
		return c.apiError(ctx, fmt.Sprintf("fetching %s", cfg.fetchSID), err, cfg)
	}
	return c.show(order, cfg)
}

// follow waits for one bulk request to be processed, drawing progress on
// stderr, and shows the final results.
func (c *cli) follow(ctx context.Context, client *hostednumbers.Client, cfg *config, sid string) error {
	p := newProgress(c.stderr, c.terminal(c.stderr), cfg.jsonOut)
	p.start("bulkhost: waiting for " + sid + " to be processed")
	opts := &hostednumbers.WaitOptions{PollInterval: cfg.poll, OnSnapshot: func(o *hostednumbers.BulkHostedNumberOrder) { p.update(progressLine(o)) }}
	order, err := client.BulkHostedNumberOrders.Wait(ctx, sid, opts)
	if err == nil {
		// PROCESSED means the orders exist: each number then goes on by
		// its hosted number order, the authority, until it is final.
		order, err = c.followOrders(ctx, client, order, cfg, p)
	}
	p.done()
	if err != nil {
		failure := c.apiError(ctx, fmt.Sprintf("waiting for %s", sid), err, cfg)
		if order != nil {
			failure.hints = append(failure.hints, "last known state: "+progressLine(order))
		}
		failure.hints = append(failure.hints, fmt.Sprintf("the request exists; follow it again with: bulkhost -live -fetch %s -wait", sid))
		return failure
	}
	return c.show(order, cfg)
}

// followOrders follows each number of a processed bulk request by its
// hosted number order until every one is completed, failed or needs
// action, and returns the request with its results regrouped by those
// statuses.
func (c *cli) followOrders(ctx context.Context, client *hostednumbers.Client, order *hostednumbers.BulkHostedNumberOrder, cfg *config, p *progress) (*hostednumbers.BulkHostedNumberOrder, error) {
	results := order.Orders()
	interval := cfg.poll
	for {
		pending := 0
		for i := range results {
			if migrate.Final(string(results[i].Status)) || results[i].HostingOrderSID == "" {
				continue
			}
			pending++
			o, err := client.HostedNumberOrders.Fetch(ctx, results[i].HostingOrderSID)
			if err != nil {
				return order, err
			}
			results[i].Status, results[i].FailureReason, results[i].NextStep = o.Status, o.FailureReason, o.NextStep
		}
		out := *order
		out.Results = nil
		for _, r := range results {
			k := slices.IndexFunc(out.Results, func(g hostednumbers.ResultGroup) bool { return g.OrderStatus == r.Status })
			if k < 0 {
				out.Results = append(out.Results, hostednumbers.ResultGroup{OrderStatus: r.Status, RawOrderStatus: string(r.Status)})
				k = len(out.Results) - 1
			}
			out.Results[k].Orders = append(out.Results[k].Orders, r)
			out.Results[k].Count++
		}
		p.update(progressLine(&out))
		done := true
		for _, r := range results {
			done = done && (migrate.Final(string(r.Status)) || r.HostingOrderSID == "")
		}
		if done || pending == 0 {
			return &out, nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return &out, ctx.Err()
		case <-t.C:
		}
		interval = min(2*interval, hostednumbers.DefaultMaxPollInterval)
	}
}

// show prints the order as a table or JSON and picks the exit status.
func (c *cli) show(order *hostednumbers.BulkHostedNumberOrder, cfg *config) error {
	var err error
	if cfg.jsonOut {
		err = writeJSON(c.stdout, order)
	} else {
		err = writeTable(c.stdout, order)
	}
	if err != nil {
		return failf("writing the results: %v", err)
	}
	if failed := order.Failed(); len(failed) > 0 {
		return &runError{code: exitFailures, msg: fmt.Sprintf("%d number%s failed or need%s action: see the DETAIL of each.",
			len(failed), plural(len(failed)), verbS(len(failed)))}
	}
	return nil
}
