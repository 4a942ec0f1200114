package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hostednumbers/hostednumbers-go"
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
	return exporter, provider.Tracer("test")
}

func TestOneSpanPerCallWithItsAttempts(t *testing.T) {
	exporter, tracer := tracing(t)
	srv := hostednumberstest.NewServer(hostednumberstest.WithImmediateProcessing())
	defer srv.Close()
	client := srv.Client(hostednumbers.WithHooks(TracingHooks(tracer)))

	require.NoError(t, calls(testCtx(t), srv, client))
	spans := exporter.GetSpans()
	require.Len(t, spans, 3, "one span per SDK call, whatever its attempts")
	reqs := srv.Requests()
	require.Len(t, reqs, 4, "create, 503, fetch, lost create")

	create, fetch, lost := spans[0], spans[1], spans[2]

	assert.Equal(t, "hostednumbers create bulk order", create.Name)
	assert.Equal(t, trace.SpanKindClient, create.SpanKind)
	assert.Equal(t, "ok", attr(create.Attributes, attrOutcome))
	assert.Equal(t, "202", attr(create.Attributes, attrStatus))
	assert.Equal(t, "example", attr(create.Attributes, attrTag))
	assert.Equal(t, "POST", attr(create.Attributes, attrMethod))
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk", attr(create.Attributes, attrRoute))
	assert.Equal(t, reqs[0].RequestID, attr(create.Attributes, attrRequestID))
	assert.Equal(t, codes.Unset, create.Status.Code)

	assert.Equal(t, "hostednumbers fetch bulk order", fetch.Name)
	assert.Equal(t, "/v2/HostedNumber/Orders/Bulk/{Sid}", attr(fetch.Attributes, attrRoute), "no SID in the route")
	assert.Equal(t, "ok", attr(fetch.Attributes, attrOutcome))
	assert.Equal(t, "200", attr(fetch.Attributes, attrStatus))
	assert.Equal(t, "2", attr(fetch.Attributes, attrAttempts))
	assert.Equal(t, reqs[2].RequestID, attr(fetch.Attributes, attrRequestID))
	require.Len(t, fetch.Events, 2, "the retried 503 shows two attempts")
	assert.Equal(t, []string{"1", "503", reqs[1].RequestID}, []string{
		attr(fetch.Events[0].Attributes, attrAttempt), attr(fetch.Events[0].Attributes, attrStatus), attr(fetch.Events[0].Attributes, attrRequestID)})
	assert.Equal(t, []string{"2", "200", reqs[2].RequestID}, []string{
		attr(fetch.Events[1].Attributes, attrAttempt), attr(fetch.Events[1].Attributes, attrStatus), attr(fetch.Events[1].Attributes, attrRequestID)})

	assert.Equal(t, "outcome_unknown", attr(lost.Attributes, attrOutcome), "the lost answer")
	assert.Equal(t, codes.Error, lost.Status.Code)
	assert.Equal(t, "outcome_unknown", lost.Status.Description)
	assert.Equal(t, "-", attr(lost.Attributes, attrStatus), "no answer, no status")
	assert.Equal(t, "1", attr(lost.Attributes, attrAttempts), "a create is never resent without evidence")
	var sawAttempt, sawException bool
	for _, e := range lost.Events {
		switch e.Name {
		case "attempt":
			sawAttempt = true
			assert.NotEqual(t, "-", attr(e.Attributes, attrErrMessage))
		case "exception":
			sawException = true
		}
	}
	assert.True(t, sawAttempt && sawException, "the failed attempt and the recorded error")
	assert.Len(t, srv.Orders(), 2, "the lost create was processed: outcome_unknown was right")

	for _, s := range spans {
		assert.False(t, s.Parent.IsValid(), "top-level spans here")
		for _, e := range s.Events {
			assert.NotContains(t, attr(e.Attributes, attrErrMessage), hostednumberstest.AuthToken)
		}
	}
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
		hostednumbers.WithHooks(TracingHooks(tracer)),
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
	assert.Equal(t, "3", attr(call.Attributes(), attrAttempts))
}

func TestRunPrintsTheSpans(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(testCtx(t), &out))
	want := strings.Join([]string{
		"hostednumbers create bulk order ok",
		"  attempt 1 status 202",
		"hostednumbers fetch bulk order ok",
		"  attempt 1 status 503",
		"  attempt 2 status 200",
		"hostednumbers create bulk order outcome_unknown",
		"  attempt 1 status -",
		"",
	}, "\n")
	assert.Equal(t, want, out.String())
}
