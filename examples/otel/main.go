// Command otel shows how to trace hostednumbers-go with OpenTelemetry,
// with the hooks of package otelhooks: one span per SDK call, with an
// event per attempt and the call's outcome label, HTTP status and Twilio
// request id as attributes. It runs against hostednumberstest's fake
// server and prints the spans it recorded.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/otel/otelhooks"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run makes a few calls against the fake server, one of them retried and
// one whose answer is lost, and prints one line per span and attempt.
func run(ctx context.Context, w io.Writer) error {
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = provider.Shutdown(context.Background()) }()

	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client(hostednumbers.WithHooks(otelhooks.Tracing(provider.Tracer(otelhooks.ScopeName))))

	if err := calls(ctx, srv, client); err != nil {
		return err
	}
	for _, s := range exporter.GetSpans() {
		fmt.Fprintf(w, "%s %s\n", s.Name, attr(s.Attributes, otelhooks.KeyOutcome))
		for _, e := range s.Events {
			if e.Name == otelhooks.AttemptEvent {
				fmt.Fprintf(w, "  attempt %s status %s\n", attr(e.Attributes, otelhooks.KeyAttempt), attr(e.Attributes, otelhooks.KeyStatus))
			}
		}
	}
	return nil
}

// calls creates an order, fetches it through a 503, and makes a second
// create whose answer the server drops after processing it.
func calls(ctx context.Context, srv *hostednumberstest.Server, client *hostednumbers.Client) error {
	params := &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
		Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
		Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
	}}}
	order, err := client.BulkHostedNumberOrders.Create(ctx, params, hostednumbers.WithCallTag("example"))
	if err != nil {
		return err
	}
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})
	if _, err := client.BulkHostedNumberOrders.Fetch(ctx, order.BulkHostingSID, nil); err != nil {
		return err
	}
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodPost, ProcessThenDrop: true})
	if _, err := client.BulkHostedNumberOrders.Create(ctx, params); err == nil {
		return fmt.Errorf("the second create was expected to fail")
	}
	return nil
}
