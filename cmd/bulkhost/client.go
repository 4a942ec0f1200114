package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hostednumbers/hostednumbers-go"
)

// client returns the API client built from the environment, and what to
// call when done.
func (c *cli) client(cfg *config) (*hostednumbers.Client, func(), error) {
	client, err := c.liveClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c.stderr, "bulkhost: using %s as account %s.\n", client.BaseURL(), client.AccountSID())
	return client, client.CloseIdleConnections, nil
}

// liveClient builds the client from the environment (through c.getenv)
// as hostednumbers.NewClientFromEnv does; its errors name the variables.
func (c *cli) liveClient(cfg *config) (*hostednumbers.Client, error) {
	opts := []hostednumbers.Option{hostednumbers.WithEnv(c.getenv)}
	if testURL := c.getenv(envTestBaseURL); testURL != "" {
		if !loopbackURL(testURL) {
			return nil, errors.New("the Twilio settings in the environment: " + envTestBaseURL + ": is for tests against a local fake server only: it must be an http URL on a loopback address")
		}
		opts = append(opts, hostednumbers.WithBaseURL(testURL), hostednumbers.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
			hostednumbers.WithMaxRetryAfter(100*time.Millisecond))
	}
	opts = append(opts, hostednumbers.WithUserAgentSuffix("bulkhost"), hostednumbers.WithTimeout(cfg.attemptTimeout))
	opts = append(opts, c.clientOptions...)
	client, err := hostednumbers.NewClientFromEnv(opts...)
	if err != nil {
		var ve *hostednumbers.ValidationError
		if errors.As(err, &ve) {
			msgs := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				msgs[i] = p.String()
			}
			return nil, fmt.Errorf("the Twilio settings in the environment: %s", strings.Join(msgs, "; "))
		}
		return nil, err
	}
	return client, nil
}

// loopbackURL reports whether raw is an http URL on a loopback address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
