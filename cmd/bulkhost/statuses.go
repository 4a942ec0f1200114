package main

import (
	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/migrate"
)

// reportStatuses are the statuses a number can have in a report, and so
// the values -export-status accepts: the hosted number order statuses
// Twilio documents, then those of numbers Twilio does not (or is not
// known to) hold.
func reportStatuses() []string {
	return []string{
		string(hostednumbers.OrderStatusReceived),
		string(hostednumbers.OrderStatusPendingVerification),
		string(hostednumbers.OrderStatusVerified),
		string(hostednumbers.OrderStatusPendingLOA),
		string(hostednumbers.OrderStatusCarrierProcessing),
		string(hostednumbers.OrderStatusTesting),
		string(hostednumbers.OrderStatusTwilioProcessing),
		string(hostednumbers.OrderStatusCompleted),
		string(hostednumbers.OrderStatusFailed),
		string(hostednumbers.OrderStatusActionRequired),
		"canceled",
		migrate.StatusNotSubmitted,
		migrate.StatusRejected,
		migrate.StatusUnknown,
		migrate.StatusSubmitted,
		migrate.StatusWithdrawn,
		migrate.StatusCheckFailed,
	}
}
