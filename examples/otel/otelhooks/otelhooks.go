// Package otelhooks traces hostednumbers-go with OpenTelemetry: Tracing
// returns the client Hooks that make one client span per SDK call, with an
// event per attempt and the call's outcome label, HTTP status and Twilio
// request id as attributes.
//
//	tracer := otel.Tracer(otelhooks.ScopeName)
//	client, err := hostednumbers.NewClient(hostednumbers.WithHooks(otelhooks.Tracing(tracer)))
//
// The SDK itself does not depend on OpenTelemetry: these hooks are the
// whole integration, in the examples/otel module so that the SDK's go.mod
// keeps its own dependencies. A RoundTripper that traces HTTP requests
// (such as otelhttp.NewTransport), given with hostednumbers.WithHTTPClient,
// nests its spans, one per attempt, under the call's span, because the
// attempts run in the context OnCallStart returns.
package otelhooks

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hostednumbers/hostednumbers-go"
)

// ScopeName is the instrumentation scope to name a tracer by.
const ScopeName = "github.com/hostednumbers/hostednumbers-go/examples/otel/otelhooks"

// Attribute keys the hooks set. The HTTP ones follow OpenTelemetry's
// semantic conventions; the others are the SDK's own.
const (
	// KeyMethod is the call's HTTP method, on its span.
	KeyMethod = attribute.Key("http.request.method")
	// KeyRoute is the call's path template (no SID), on its span.
	KeyRoute = attribute.Key("url.template")
	// KeyStatus is the HTTP status: of an attempt on its event, of the
	// final answer on the span; absent without an answer.
	KeyStatus = attribute.Key("http.response.status_code")
	// KeyOperation is what the call does ("create bulk order"), on its span.
	KeyOperation = attribute.Key("hostednumbers.operation")
	// KeyTag is the call's WithCallTag, on its span when it has one.
	KeyTag = attribute.Key("hostednumbers.tag")
	// KeyAttempt counts an attempt from 1, on its event.
	KeyAttempt = attribute.Key("hostednumbers.attempt")
	// KeyAttempts is how many attempts the call began, on its span.
	KeyAttempts = attribute.Key("hostednumbers.attempts")
	// KeyOutcome is the call's outcome label (hostednumbers.Outcome), on
	// its span.
	KeyOutcome = attribute.Key("hostednumbers.outcome")
	// KeyRequestID is Twilio's request id: of an attempt on its event, of
	// the final answer on the span.
	KeyRequestID = attribute.Key("twilio.request_id")
	// KeyLatencyMS is an attempt's time to its answer's headers, or to its
	// failure, in milliseconds, on its event.
	KeyLatencyMS = attribute.Key("hostednumbers.latency_ms")
	// KeyErrMessage is an attempt's failure without an answer (redacted
	// by the SDK), on its event.
	KeyErrMessage = attribute.Key("error.message")
)

// AttemptEvent is the name of the event each attempt adds to its call's
// span.
const AttemptEvent = "attempt"

// Tracing returns hooks that make one client span per SDK call with
// tracer, named "hostednumbers " and the call's operation. Pass them to
// the client with hostednumbers.WithHooks. A call whose outcome is not
// hostednumbers.OutcomeOK records its error and sets the span's status to
// Error, with the outcome as its description.
func Tracing(tracer trace.Tracer) hostednumbers.Hooks {
	return hostednumbers.Hooks{
		OnCallStart: func(ctx context.Context, call hostednumbers.CallInfo) context.Context {
			attrs := []attribute.KeyValue{
				KeyMethod.String(call.Method),
				KeyRoute.String(call.Path),
				KeyOperation.String(call.Operation),
			}
			if call.Tag != "" {
				attrs = append(attrs, KeyTag.String(call.Tag))
			}
			ctx, _ = tracer.Start(ctx, "hostednumbers "+call.Operation,
				trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			return ctx
		},
		OnAttempt: func(ctx context.Context, a hostednumbers.AttemptInfo) {
			attrs := []attribute.KeyValue{
				KeyAttempt.Int(a.Attempt),
				KeyLatencyMS.Int64(a.Latency.Milliseconds()),
			}
			if a.StatusCode != 0 {
				attrs = append(attrs, KeyStatus.Int(a.StatusCode))
			}
			if a.RequestID != "" {
				attrs = append(attrs, KeyRequestID.String(a.RequestID))
			}
			if a.Err != nil {
				attrs = append(attrs, KeyErrMessage.String(a.Err.Error())) // redacted by the SDK
			}
			trace.SpanFromContext(ctx).AddEvent(AttemptEvent, trace.WithAttributes(attrs...))
		},
		OnCallEnd: func(ctx context.Context, end hostednumbers.CallEnd) {
			span := trace.SpanFromContext(ctx)
			span.SetAttributes(KeyOutcome.String(string(end.Outcome)), KeyAttempts.Int(end.Attempts))
			if end.StatusCode != 0 {
				span.SetAttributes(KeyStatus.Int(end.StatusCode))
			}
			if end.RequestID != "" {
				span.SetAttributes(KeyRequestID.String(end.RequestID))
			}
			if end.Outcome != hostednumbers.OutcomeOK {
				if end.Err != nil {
					span.RecordError(end.Err)
				}
				span.SetStatus(codes.Error, string(end.Outcome))
			}
			span.End()
		},
	}
}
