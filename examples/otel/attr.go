package main

import "go.opentelemetry.io/otel/attribute"

// attr returns the value of key among attrs, as text, "-" if absent.
func attr(attrs []attribute.KeyValue, key attribute.Key) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.Emit()
		}
	}
	return "-"
}
