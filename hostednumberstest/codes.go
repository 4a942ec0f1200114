package hostednumberstest

import "net/http"

// The Twilio error codes the fake answers with: only codes Twilio
// documents for the case, each cited from Twilio's error pages as
// ../shared/TWILIO-FACTS.md and SPEC.md quote them. Where Twilio documents
// none (an unsupported media type, a method not allowed, a body too large,
// a cancel refused because the order is past received), the error
// document has no code and no more_info: a test sees noCode (an
// APIError.Code of 0) rather than a number that means something else on
// twilio.com.
const (
	// noCode leaves code and more_info out of the error document.
	noCode = 0
	// codeInvalidParameter (20001): a parameter, or the body holding them,
	// is invalid.
	codeInvalidParameter = 20001
	// codeAuthenticate (20003): the credentials were refused.
	codeAuthenticate = 20003
	// codeMaxPageSize (20007): "The maximum page size is 1000".
	codeMaxPageSize = 20007
	// codeNotFound (20404): the resource does not exist.
	codeNotFound = 20404
	// codeTooManyRequests (20429): refused before any processing.
	codeTooManyRequests = 20429
	// codeInvalidOrderSIDs (22101): an authorisation document names
	// invalid hosted number order SIDs.
	codeInvalidOrderSIDs = 22101
	// codeDocumentImmutable (22107): a signed document cannot be updated
	// or deleted.
	codeDocumentImmutable = 22107
	// codeNoSuchStatus (22111): a list of hosted number orders filtered on
	// a status that does not exist.
	codeNoSuchStatus = 22111
	// codeOrderFinished (22112): an update of a hosted number order that
	// is completed or failed.
	codeOrderFinished = 22112
)

// statusCode is the documented code of an error status the fake answers
// without a more precise one (a Fault without a Body): noCode for a status
// Twilio documents no code for.
func statusCode(status int) int {
	switch status {
	case http.StatusBadRequest:
		return codeInvalidParameter
	case http.StatusUnauthorized:
		return codeAuthenticate
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusTooManyRequests:
		return codeTooManyRequests
	}
	return noCode
}
