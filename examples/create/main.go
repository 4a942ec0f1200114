// Command create submits one bulk hosted number order to Twilio and prints
// its SID and status. It is the smallest complete use of the SDK.
//
// It reads credentials from the environment (TWILIO_ACCOUNT_SID with
// TWILIO_AUTH_TOKEN, or TWILIO_API_KEY, TWILIO_API_SECRET and
// TWILIO_ACCOUNT_SID) and, because it talks to the real Twilio API, runs
// only when -live is given:
//
//	go run ./examples/create -live -email owner@example.com \
//	    -address-sid AD0123456789abcdef0123456789abcdef \
//	    -number +14155550101 -number +14155550102
//
// Exit status: 0 on success, 2 for missing credentials, bad input or an
// API error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, hostednumbers.NewClientFromEnv)
	stop()
	os.Exit(code)
}

type numbersFlag []string

func (n *numbersFlag) String() string     { return strings.Join(*n, ",") }
func (n *numbersFlag) Set(v string) error { *n = append(*n, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, newClient func(...hostednumbers.Option) (*hostednumbers.Client, error)) int {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "send the order to the real Twilio API (required)")
	email := fs.String("email", "", "owner e-mail address for the authorisation document")
	addressSID := fs.String("address-sid", "", "address SID (AD…) the numbers are registered at")
	friendlyName := fs.String("friendly-name", "", "label for the bulk request")
	var numbers numbersFlag
	fs.Var(&numbers, "number", "phone number to host, in E.164 form (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	client, err := newClient()
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_ACCOUNT_SID) to your Twilio credentials")
		return 2
	}
	if !*live {
		fmt.Fprintln(stderr, "this sends a real hosting request to Twilio: add -live to go ahead")
		return 2
	}

	params := &hostednumbers.CreateBulkHostedNumberOrderParams{FriendlyName: *friendlyName}
	item := hostednumbers.RequestItem{Email: *email, AddressSID: *addressSID}
	for _, n := range numbers {
		item.Numbers = append(item.Numbers, hostednumbers.Number{PhoneNumber: n})
	}
	params.RequestItems = []hostednumbers.RequestItem{item}

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	order, err := client.BulkHostedNumberOrders.Create(ctx, params)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintf(stdout, "%s %s\n", order.BulkHostingSID, order.RequestStatus)
	return 0
}
