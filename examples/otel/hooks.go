// Command otel shows how to trace hostednumbers-go with OpenTelemetry:
// one span per SDK call, built from the client's Hooks, with an event per
// attempt and the call's outcome label, HTTP status and Twilio request id
// as attributes. It runs against hostednumberstest's fake server and
// prints the spans it recorded.
//
// The SDK itself does not depend on OpenTelemetry: the hooks below are
// the whole integration. A RoundTripper that traces HTTP requests (such as
// otelhttp.NewTransport), given with hostednumbers.WithHTTPClient, nests
// its spans, one per attempt, under the call's span, because the attempts
// run in the context OnCallStart returns.
package main

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hostednumbers/hostednumbers-go"
)

// Attribute keys the hooks set. The HTTP ones follow OpenTelemetry's
// semantic conventions; the others are the SDK's own.
const (
	attrMethod     = attribute.Key("http.request.method")
	attrRoute      = attribute.Key("url.template")
	attrStatus     = attribute.Key("http.response.status_code")
	attrOperation  = attribute.Key("hostednumbers.operation")
	attrTag        = attribute.Key("hostednumbers.tag")
	attrAttempt    = attribute.Key("hostednumbers.attempt")
	attrAttempts   = attribute.Key("hostednumbers.attempts")
	attrOutcome    = attribute.Key("hostednumbers.outcome")
	attrRequestID  = attribute.Key("twilio.request_id")
	attrLatencyMS  = attribute.Key("hostednumbers.latency_ms")
	attrErrMessage = attribute.Key("error.message")
)

// TracingHooks returns hooks that make one client span per SDK call with
// tracer. Pass them to the client with hostednumbers.WithHooks.
func TracingHooks(tracer trace.Tracer) hostednumbers.Hooks {
	return hostednumbers.Hooks{
		OnCallStart: func(ctx context.Context, call hostednumbers.CallInfo) context.Context {
			attrs := []attribute.KeyValue{
				attrMethod.String(call.Method),
				attrRoute.String(call.Path),
				attrOperation.String(call.Operation),
			}
			if call.Tag != "" {
				attrs = append(attrs, attrTag.String(call.Tag))
			}
			ctx, _ = tracer.Start(ctx, "hostednumbers "+call.Operation,
				trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			return ctx
		},
		OnAttempt: func(ctx context.Context, a hostednumbers.AttemptInfo) {
			attrs := []attribute.KeyValue{
				attrAttempt.Int(a.Attempt),
				attrLatencyMS.Int64(a.Latency.Milliseconds()),
			}
			if a.StatusCode != 0 {
				attrs = append(attrs, attrStatus.Int(a.StatusCode))
			}
			if a.RequestID != "" {
				attrs = append(attrs, attrRequestID.String(a.RequestID))
			}
			if a.Err != nil {
				attrs = append(attrs, attrErrMessage.String(a.Err.Error())) // redacted by the SDK
			}
			trace.SpanFromContext(ctx).AddEvent("attempt", trace.WithAttributes(attrs...))
		},
		OnCallEnd: func(ctx context.Context, end hostednumbers.CallEnd) {
			span := trace.SpanFromContext(ctx)
			span.SetAttributes(attrOutcome.String(string(end.Outcome)), attrAttempts.Int(end.Attempts))
			if end.StatusCode != 0 {
				span.SetAttributes(attrStatus.Int(end.StatusCode))
			}
			if end.RequestID != "" {
				span.SetAttributes(attrRequestID.String(end.RequestID))
			}
			if end.Outcome != hostednumbers.OutcomeOK {
				span.RecordError(end.Err)
				span.SetStatus(codes.Error, string(end.Outcome))
			}
			span.End()
		},
	}
}
