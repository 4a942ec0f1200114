package hostednumbers

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretForms are the forms of a credential that must never survive, even
// in part: the secret and the basic-auth base64 forms.
func secretForms(user, secret string) map[string]string {
	pair := []byte(user + ":" + secret)
	return map[string]string{
		"secret":          secret,
		"basic base64":    base64.StdEncoding.EncodeToString(pair),
		"basic base64url": base64.URLEncoding.EncodeToString(pair),
		"basic unpadded":  strings.TrimRight(base64.StdEncoding.EncodeToString(pair), "="),
	}
}

// assertNoPiece fails if any redactPiece consecutive characters of any
// form occur in text.
func assertNoPiece(t *testing.T, text string, forms map[string]string, where string) {
	t.Helper()
	for name, f := range forms {
		for i := 0; i+redactPiece <= len(f); i++ {
			if piece := f[i : i+redactPiece]; strings.Contains(text, piece) {
				t.Errorf("%s: %d characters of the %s (%q) survive in %q", where, redactPiece, name, piece, text)
				return
			}
		}
	}
}

type credentialCase struct {
	name   string
	opt    Option
	forms  map[string]string
	secret string
}

func credentialCases() []credentialCase {
	return []credentialCase{
		{"auth token", WithCredentials(ctAccountSID, ctAuthToken), secretForms(ctAccountSID, ctAuthToken), ctAuthToken},
		{"API key secret", WithAPIKey(ctAPIKey, ctAPISecret, ctAccountSID), secretForms(ctAPIKey, ctAPISecret), ctAPISecret},
	}
}

func TestRedactor_NoPieceOfASecretSurvives(t *testing.T) {
	for _, cc := range credentialCases() {
		user := ctAccountSID
		if strings.HasPrefix(cc.name, "API") {
			user = ctAPIKey
		}
		r := newRedactor(user, cc.secret)
		for name, form := range cc.forms {
			for cut := redactPiece; cut <= len(form); cut += 3 {
				for _, text := range []string{
					form[:cut],
					"x" + form[len(form)-cut:] + " y",
					"quoted \"" + form[cut/2:cut] + "\" and " + form,
				} {
					assertNoPiece(t, r.redact(text), cc.forms, cc.name+"/"+name)
				}
			}
		}
		assert.Equal(t, "ordinary text, RQ0123456789abcdef", r.redact("ordinary text, RQ0123456789abcdef"))
		assert.Equal(t, "a [redacted] b", r.redact("a "+cc.secret+" b"))
		assert.Equal(t, "short", r.redact("short"))
	}
	var nilRedactor *redactor
	assert.Equal(t, "anything at all", nilRedactor.redact("anything at all"))
}

// TestEchoedCredentials_RedactedBeforeCutting drives every way a server's
// bytes reach an error or a log record, with each secret placed where a
// cut would leave part of it: an HTML page whose secret straddles the
// excerpt's 200th character, a JSON error document, a Twilio-Request-Id,
// a value the decoder quotes, a malformed header net/http quotes.
func TestEchoedCredentials_RedactedBeforeCutting(t *testing.T) {
	for _, cc := range credentialCases() {
		for formName, form := range cc.forms {
			t.Run(cc.name+"/"+formName, func(t *testing.T) {
				var logs bytes.Buffer
				var mu sync.Mutex
				logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				// The form starts where the 200-character excerpt ends, or
				// where the body is first cut (1600 bytes).
				for _, offset := range []int{200 - 25, 200 - 8, 200 - 1, 1600 - 12} {
					page := "<html><body>" + strings.Repeat("p", offset-len("<html><body>")) + form + " trailing text</body></html>"
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Twilio-Request-Id", "RQ"+form)
						switch r.URL.Query().Get("case") {
						case "json":
							w.WriteHeader(http.StatusBadRequest)
							fmt.Fprintf(w, `{"code":21211,"message":"bad: %s","more_info":"https://x/%s","status":400,"details":{"%s":["%s"]}}`, form, form, form, form)
						case "decode":
							w.WriteHeader(http.StatusAccepted)
							fmt.Fprintf(w, `{"bulk_hosting_sid":"%s","request_status":"QUEUED"}`, strings.Repeat("z", offset%40)+form)
						default:
							w.Header().Set("Content-Type", "text/html")
							w.WriteHeader(http.StatusBadGateway)
							_, _ = w.Write([]byte(page))
						}
					}))
					c, err := NewClient(cc.opt, WithBaseURL(srv.URL), WithMaxRetries(0), WithLogger(logger))
					require.NoError(t, err)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					for _, q := range []string{"html", "json", "decode"} {
						var err error
						if q == "decode" {
							_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
						} else {
							_, err = c.do(ctx, request{method: http.MethodPost, path: ctBulkPath, query: "case=" + q, body: []byte("{}")}, nil, nil)
						}
						require.Error(t, err)
						assertNoPiece(t, err.Error(), cc.forms, q+" error")
						assertNoPiece(t, fmt.Sprintf("%+v %#v", err, err), cc.forms, q+" formatted error")
						var apiErr *APIError
						if errors.As(err, &apiErr) {
							assertNoPiece(t, apiErr.RequestID, cc.forms, "APIError.RequestID")
							assertNoPiece(t, apiErr.Body+apiErr.Message+apiErr.MoreInfo+fmt.Sprint(apiErr.Details), cc.forms, "APIError fields")
						}
						var decErr *DecodeError
						if errors.As(err, &decErr) {
							assertNoPiece(t, decErr.RequestID, cc.forms, "DecodeError.RequestID")
						}
					}
					cancel()
					srv.Close()
				}
				mu.Lock()
				assertNoPiece(t, logs.String(), cc.forms, "log records")
				mu.Unlock()
			})
		}
	}
}

// TestEchoedCredentials_InSuccessfulResponseMetadata: a Twilio-Request-Id
// (and any header) echoing a credential is redacted in Response too.
func TestEchoedCredentials_InSuccessfulResponseMetadata(t *testing.T) {
	created := ctFixture(t, "create_202.json")
	for _, cc := range credentialCases() {
		for formName, form := range cc.forms {
			t.Run(cc.name+"/"+formName, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Twilio-Request-Id", "RQ"+form)
					w.Header().Set("X-Echo", "Basic "+form)
					w.WriteHeader(http.StatusAccepted)
					_, _ = w.Write(created)
				}))
				defer srv.Close()
				var logs bytes.Buffer
				var mu sync.Mutex
				logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c, err := NewClient(cc.opt, WithBaseURL(srv.URL), WithLogger(logger))
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
				require.NoError(t, err)
				assert.True(t, strings.HasPrefix(order.LastResponse.RequestID, "RQ"))
				assertNoPiece(t, order.LastResponse.RequestID, cc.forms, "Response.RequestID")
				assertNoPiece(t, fmt.Sprint(order.LastResponse.Header), cc.forms, "Response.Header")
				mu.Lock()
				assertNoPiece(t, logs.String(), cc.forms, "log records")
				mu.Unlock()
			})
		}
	}
}

// TestEchoedCredentials_InTransportErrors: errors from the RoundTripper
// (a proxy's words, a malformed header net/http quotes) are redacted in
// errors and logs, and keep the sentinels callers branch on.
func TestEchoedCredentials_InTransportErrors(t *testing.T) {
	for _, cc := range credentialCases() {
		for formName, form := range cc.forms {
			t.Run(cc.name+"/"+formName, func(t *testing.T) {
				var logs bytes.Buffer
				var mu sync.Mutex
				logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				rt := roundTripFunc(func(*http.Request) (*http.Response, error) {
					return nil, fmt.Errorf("proxy refused Authorization: Basic %s: %w", form, context.DeadlineExceeded)
				})
				c, err := NewClient(cc.opt, WithBaseURL("http://127.0.0.1:1"), WithHTTPClient(&http.Client{Transport: rt}),
					WithMaxRetries(0), WithLogger(logger))
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
				require.Error(t, err)
				assertNoPiece(t, err.Error(), cc.forms, "error")
				assert.ErrorIs(t, err, context.DeadlineExceeded, "the sentinel survives redaction")
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.Contains(t, err.Error(), "[redacted]")

				// A malformed header quoted by net/http.
				srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ int) bool {
					fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n", form)
					return false
				})
				c2, err := NewClient(cc.opt, WithBaseURL(srv.URL), WithMaxRetries(0), WithLogger(logger))
				require.NoError(t, err)
				_, err = c2.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
				require.Error(t, err)
				assertNoPiece(t, err.Error(), cc.forms, "quoted header error")
				mu.Lock()
				assertNoPiece(t, logs.String(), cc.forms, "log records")
				mu.Unlock()
			})
		}
	}
}

// TestServerDate_AndClockOffset: every answer's Date header is kept as
// ServerDate (zero when absent or unreadable), on success and on an
// *APIError, and the client keeps the latest server-minus-local offset.
func TestServerDate_AndClockOffset(t *testing.T) {
	created := ctFixture(t, "create_202.json")
	var mu sync.Mutex
	date := ""
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d, s := date, status
		mu.Unlock()
		if d == "" {
			w.Header()["Date"] = nil // net/http's server adds one otherwise
		} else {
			w.Header().Set("Date", d)
		}
		if s == http.StatusAccepted {
			w.WriteHeader(s)
			_, _ = w.Write(created)
			return
		}
		ctWrite(w, s, ctFixture(t, "error_400.json"))
	}))
	defer srv.Close()
	set := func(d string, s int) { mu.Lock(); date, status = d, s; mu.Unlock() }
	c := ctClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, ok := c.ClockOffset()
	assert.False(t, ok, "no answer yet")

	set("", http.StatusAccepted)
	order, err := c.BulkHostedNumberOrders.Create(ctx, nil)
	require.NoError(t, err)
	assert.True(t, order.LastResponse.ServerDate.IsZero(), "no Date header")
	_, ok = c.ClockOffset()
	assert.False(t, ok, "an answer without Date tells nothing")

	set("yesterday-ish", http.StatusAccepted)
	order, err = c.BulkHostedNumberOrders.Create(ctx, nil)
	require.NoError(t, err)
	assert.True(t, order.LastResponse.ServerDate.IsZero(), "unreadable Date")
	_, ok = c.ClockOffset()
	assert.False(t, ok)

	ahead := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	set(ahead.Format(http.TimeFormat), http.StatusAccepted)
	order, err = c.BulkHostedNumberOrders.Create(ctx, nil)
	require.NoError(t, err)
	assert.True(t, ahead.Equal(order.LastResponse.ServerDate), "ServerDate %v", order.LastResponse.ServerDate)
	offset, ok := c.ClockOffset()
	require.True(t, ok)
	assert.InDelta(t, float64(time.Hour), float64(offset), float64(3*time.Second), "offset %v", offset)

	behind := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	set(behind.Format(time.RFC850), http.StatusBadRequest)
	_, err = c.BulkHostedNumberOrders.Create(ctx, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, behind.Equal(apiErr.ServerDate), "APIError.ServerDate %v", apiErr.ServerDate)
	offset, ok = c.ClockOffset()
	require.True(t, ok)
	assert.InDelta(t, float64(-2*time.Hour), float64(offset), float64(3*time.Second), "the latest answer wins: %v", offset)

	// Readers and answers at once, under -race.
	set(time.Now().UTC().Format(http.TimeFormat), http.StatusAccepted)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _ = c.BulkHostedNumberOrders.Create(ctx, nil)
		}()
		go func() {
			defer wg.Done()
			_, _ = c.ClockOffset()
		}()
	}
	wg.Wait()
	offset, ok = c.ClockOffset()
	require.True(t, ok)
	assert.InDelta(t, 0, float64(offset), float64(3*time.Second))
}

func TestServerClock_KeepsTheLatestAnswer(t *testing.T) {
	var s serverClock
	now := time.Now()
	h := func(d time.Time) http.Header { return http.Header{"Date": {d.UTC().Format(http.TimeFormat)}} }
	s.observe(h(now.Add(10*time.Second)), now)
	off, ok := s.get()
	require.True(t, ok)
	assert.InDelta(t, float64(10*time.Second), float64(off), float64(time.Second))
	// An answer whose headers arrived earlier, measured later, loses.
	s.observe(h(now.Add(-time.Hour)), now.Add(-time.Second))
	off, _ = s.get()
	assert.InDelta(t, float64(10*time.Second), float64(off), float64(time.Second))
	s.observe(http.Header{"Date": {"garbage"}}, now.Add(time.Second))
	off, _ = s.get()
	assert.InDelta(t, float64(10*time.Second), float64(off), float64(time.Second))
}
