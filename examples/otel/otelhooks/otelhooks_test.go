package otelhooks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/examples/otel/otelhooks"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tracing returns an in-memory exporter and a tracer that exports each
// span to it as soon as it ends.
func tracing(t *testing.T) (*tracetest.InMemoryExporter, trace.Tracer) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	return exporter, provider.Tracer(otelhooks.ScopeName)
}

// attr returns the value of key among attrs, as text, "-" if absent.
func attr(attrs []attribute.KeyValue, key attribute.Key) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.Emit()
		}
	}
	return "-"
}

var params = &hostednumbers.CreateBulkHostedNumberOrderParams{RequestItems: []hostednumbers.RequestItem{{
	Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef",
	Numbers: []hostednumbers.Number{{PhoneNumber: "+14155550101"}},
}}}

// calls creates an order, fetches it through a 503, and makes a second
// create whose answer the server drops after processing it.
func calls(ctx context.Context, srv *hostednumberstest.Server, client *hostednumbers.Client) error {
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
		return errors.New("the second create was expected to fail")
	}
	return nil
}

func TestOneSpanPerCallWithItsAttempts(t *testing.T) {
	exporter, tracer := tracing(t)
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client(hostednumbers.WithHooks(otelhooks.Tracing(tracer)))

	require.NoError(t, calls(testCtx(t), srv, client))
	spans := exporter.GetSpans()
	require.Len(t, spans, 3, "one span per SDK call, whatever its attempts")
	reqs := srv.Requests()
	require.Len(t, reqs, 4, "create, 503, fetch, lost create")

	create, fetch, lost := spans[0], spans[1], spans[2]

	assert.Equal(t, "hostednumbers create bulk order", create.Name)
	assert.Equal(t, trace.SpanKindClient, create.SpanKind)
	assert.Equal(t, otelhooks.ScopeName, create.InstrumentationScope.Name)
	assert.Equal(t, "ok", attr(create.Attributes, otelhooks.KeyOutcome))
	assert.Equal(t, "202", attr(create.Attributes, otelhooks.KeyStatus))
	assert.Equal(t, "example", attr(create.Attributes, otelhooks.KeyTag))
	assert.Equal(t, "create bulk order", attr(create.Attributes, otelhooks.KeyOperation))
	assert.Equal(t, "POST", attr(create.Attributes, otelhooks.KeyMethod))
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk", attr(create.Attributes, otelhooks.KeyRoute))
	assert.Equal(t, reqs[0].RequestID, attr(create.Attributes, otelhooks.KeyRequestID))
	assert.Equal(t, codes.Unset, create.Status.Code)
	for _, e := range create.Events {
		assert.Equal(t, otelhooks.AttemptEvent, e.Name, "no error recorded on success")
	}

	assert.Equal(t, "hostednumbers fetch bulk order", fetch.Name)
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk/{Sid}", attr(fetch.Attributes, otelhooks.KeyRoute), "no SID in the route")
	assert.Equal(t, "-", attr(fetch.Attributes, otelhooks.KeyTag), "no tag, no attribute")
	assert.Equal(t, "ok", attr(fetch.Attributes, otelhooks.KeyOutcome))
	assert.Equal(t, "200", attr(fetch.Attributes, otelhooks.KeyStatus))
	assert.Equal(t, "2", attr(fetch.Attributes, otelhooks.KeyAttempts))
	assert.Equal(t, reqs[2].RequestID, attr(fetch.Attributes, otelhooks.KeyRequestID))
	require.Len(t, fetch.Events, 2, "the retried 503 shows two attempts")
	assert.Equal(t, []string{otelhooks.AttemptEvent, "1", "503", reqs[1].RequestID}, []string{fetch.Events[0].Name,
		attr(fetch.Events[0].Attributes, otelhooks.KeyAttempt), attr(fetch.Events[0].Attributes, otelhooks.KeyStatus), attr(fetch.Events[0].Attributes, otelhooks.KeyRequestID)})
	assert.Equal(t, []string{otelhooks.AttemptEvent, "2", "200", reqs[2].RequestID}, []string{fetch.Events[1].Name,
		attr(fetch.Events[1].Attributes, otelhooks.KeyAttempt), attr(fetch.Events[1].Attributes, otelhooks.KeyStatus), attr(fetch.Events[1].Attributes, otelhooks.KeyRequestID)})
	assert.NotEqual(t, "-", attr(fetch.Events[0].Attributes, otelhooks.KeyLatencyMS))

	assert.Equal(t, "outcome_unknown", attr(lost.Attributes, otelhooks.KeyOutcome), "the lost answer")
	assert.Equal(t, codes.Error, lost.Status.Code)
	assert.Equal(t, "outcome_unknown", lost.Status.Description)
	assert.Equal(t, "-", attr(lost.Attributes, otelhooks.KeyStatus), "no answer, no status")
	assert.Equal(t, "1", attr(lost.Attributes, otelhooks.KeyAttempts), "a create is never resent without evidence")
	var sawAttempt, sawException bool
	for _, e := range lost.Events {
		switch e.Name {
		case otelhooks.AttemptEvent:
			sawAttempt = true
			assert.NotEqual(t, "-", attr(e.Attributes, otelhooks.KeyErrMessage))
		case "exception":
			sawException = true
		}
	}
	assert.True(t, sawAttempt && sawException, "the failed attempt and the recorded error")
	assert.Len(t, srv.Orders(), 2, "the lost create was processed: outcome_unknown was right")

	for _, s := range spans {
		assert.False(t, s.Parent.IsValid(), "top-level spans here")
		assert.True(t, s.EndTime.After(s.StartTime) || s.EndTime.Equal(s.StartTime), "ended")
		for _, e := range s.Events {
			assert.NotContains(t, attr(e.Attributes, otelhooks.KeyErrMessage), hostednumberstest.AuthToken)
		}
	}
}

// A refused call (a 404, not retried) is an error span with the
// API's status, and the secret never shows.
func TestRefusedCallIsAnErrorSpan(t *testing.T) {
	exporter, tracer := tracing(t)
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client(hostednumbers.WithHooks(otelhooks.Tracing(tracer)))
	_, err := client.BulkHostedNumberOrders.Fetch(testCtx(t), "BH0123456789abcdef0123456789abcdef", nil) // not there

	require.Error(t, err)
	spans := exporter.GetSpans()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, codes.Error, s.Status.Code)
	assert.NotEqual(t, "ok", attr(s.Attributes, otelhooks.KeyOutcome))
	assert.Equal(t, attr(s.Attributes, otelhooks.KeyOutcome), s.Status.Description)
	assert.Equal(t, "404", attr(s.Attributes, otelhooks.KeyStatus))
	assert.Equal(t, "1", attr(s.Attributes, otelhooks.KeyAttempts))
	var exceptions int
	for _, e := range s.Events {
		if e.Name == "exception" {
			exceptions++
			for _, a := range e.Attributes {
				assert.NotContains(t, a.Value.Emit(), hostednumberstest.AuthToken)
			}
		}
	}
	assert.Equal(t, 1, exceptions, "the call's error is recorded once")
}

// attemptSpans is a RoundTripper that makes a span per attempt, as
// otelhttp.NewTransport does, under whatever span the request's context
// holds.
type attemptSpans struct {
	tracer trace.Tracer
	next   http.RoundTripper
}

func (a attemptSpans) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := a.tracer.Start(r.Context(), "HTTP "+r.Method)
	defer span.End()
	return a.next.RoundTrip(r.WithContext(ctx))
}

func TestAttemptSpansOfATransportNestUnderTheCallSpan(t *testing.T) {
	exporter, tracer := tracing(t)
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client(
		hostednumbers.WithHooks(otelhooks.Tracing(tracer)),
		hostednumbers.WithHTTPClient(&http.Client{Transport: attemptSpans{tracer, srv.Transport()}}),
	)
	srv.InjectFault(hostednumberstest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable, Count: 2})

	ctx, parent := tracer.Start(testCtx(t), "handler")
	_, err := client.HostedNumberOrders.List(ctx, nil)
	parent.End()
	require.NoError(t, err)

	spans := exporter.GetSpans()
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Snapshots() {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	require.Len(t, byName["hostednumbers list hosted number orders"], 1)
	call := byName["hostednumbers list hosted number orders"][0]
	require.Len(t, byName["HTTP GET"], 3, "two 503s and the answer")
	for _, a := range byName["HTTP GET"] {
		assert.Equal(t, call.SpanContext().SpanID(), a.Parent().SpanID(), "each attempt under the call")
	}
	assert.Equal(t, byName["handler"][0].SpanContext().SpanID(), call.Parent().SpanID(), "the call under the caller's span")
	assert.Equal(t, "3", attr(call.Attributes(), otelhooks.KeyAttempts))
}

// With a tracer that records nothing (OpenTelemetry's default before a
// provider is set), the hooks cost nothing and change no result.
func TestNoopTracer(t *testing.T) {
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	client := srv.Client(hostednumbers.WithHooks(otelhooks.Tracing(noop.NewTracerProvider().Tracer(otelhooks.ScopeName))))
	order, err := client.BulkHostedNumberOrders.Create(testCtx(t), params)
	require.NoError(t, err)
	assert.NotEmpty(t, order.BulkHostingSID)
}

func ExampleTracing() {
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = provider.Shutdown(context.Background()) }()
	srv := hostednumberstest.NewServer() // Twilio, for the example
	defer srv.Close()

	client := srv.Client(hostednumbers.WithHooks(otelhooks.Tracing(provider.Tracer(otelhooks.ScopeName))))
	if _, err := client.BulkHostedNumberOrders.Create(context.Background(), params); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range exporter.GetSpans() {
		fmt.Println(s.Name, attr(s.Attributes, otelhooks.KeyOutcome), attr(s.Attributes, otelhooks.KeyStatus))
	}
	// Output:
	// hostednumbers create bulk order ok 202
}
