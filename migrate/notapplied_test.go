package migrate_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/hostednumberstest"
	"github.com/hostednumbers/hostednumbers-go/migrate"
	"github.com/hostednumbers/hostednumbers-go/migrate/logstore"
)

// refusingProxy is a loopback HTTPS proxy that answers every CONNECT with
// 502 Bad Gateway, as a corporate proxy does when its upstream is down.
// It counts the CONNECTs and the bytes that came after one.
type refusingProxy struct {
	addr         string
	connects     atomic.Int32
	afterConnect atomic.Int64
}

func newRefusingProxy(t *testing.T) *refusingProxy {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &refusingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				in := bufio.NewReader(conn)
				req, err := http.ReadRequest(in)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				p.connects.Add(1)
				_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				n, _ := io.Copy(io.Discard, in)
				p.afterConnect.Add(n)
			}()
		}
	}()
	return p
}

// TestSubmit_ACreateThatNeverLeftIsRejectedNotInDoubt: a batch whose
// create failed before its connection opened (the proxy refused the
// CONNECT) is recorded as rejected, not in doubt; the next Submit sends
// it at once, with no look at Twilio and no wait for the processing
// window, and each number reaches Twilio once.
func TestSubmit_ACreateThatNeverLeftIsRejectedNotInDoubt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := hostednumberstest.NewServer()
	defer srv.Close()
	proxy := newRefusingProxy(t)

	st, err := logstore.Open(filepath.Join(t.TempDir(), "m.log"), logstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	meta := migrate.Meta{BatchSize: 2,
		Contact: migrate.Contact{Email: "owner@example.com", AddressSID: "AD0123456789abcdef0123456789abcdef"}}
	require.NoError(t, st.Start(ctx, meta, migrate.Batches(func(yield func(migrate.NumberState, error) bool) {
		for i := range 4 {
			if !yield(migrate.NumberState{Number: hostednumbers.Number{PhoneNumber: fmt.Sprintf("+1415555%04d", 300+i)}}, nil) {
				return
			}
		}
	}, meta.BatchSize)))

	// The first run goes through a proxy that refuses every CONNECT.
	behindProxy := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.addr})}
	t.Cleanup(behindProxy.CloseIdleConnections)
	blocked := srv.Client(hostednumbers.WithBaseURL("https://numbers.example.test"),
		hostednumbers.WithHTTPClient(&http.Client{Transport: behindProxy}), hostednumbers.WithMaxRetries(1))
	var events []migrate.Event
	m, err := migrate.New(migrate.Options{Client: migrate.ClientAPI(blocked), Store: st, Settle: time.Hour,
		OnEvent: func(e migrate.Event) { events = append(events, e) }})
	require.NoError(t, err)
	res, err := m.Submit(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, res.Rejected, "refused before anything left")
	assert.Empty(t, res.InDoubt, "nothing in doubt")
	assert.True(t, res.ConclusiveAt.IsZero())
	assert.Equal(t, int32(4), proxy.connects.Load(), "each create tried twice (WithMaxRetries(1)): it provably never left")
	assert.Zero(t, proxy.afterConnect.Load(), "nothing of a request reached the proxy")
	for _, e := range events {
		if e.Kind == migrate.EventSending {
			continue // recorded before each create
		}
		assert.Equal(t, migrate.EventRejected, e.Kind, "%s", e.Message)
		assert.ErrorIs(t, e.Err, hostednumbers.ErrNotApplied)
	}
	p, err := migrate.Summarize(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, 2, p.States[migrate.StateRejected])
	assert.Zero(t, p.States[migrate.StateUnknown]+p.States[migrate.StateSending])

	// The next run, with the way to Twilio open, sends both at once.
	events = nil
	m, err = migrate.New(migrate.Options{Client: migrate.ClientAPI(srv.Client()), Store: st, Settle: time.Hour,
		OnEvent: func(e migrate.Event) { events = append(events, e) }})
	require.NoError(t, err)
	res, err = m.Submit(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Submitted)
	assert.Empty(t, res.InDoubt)
	for _, e := range events {
		if e.Kind == migrate.EventSending {
			continue // recorded before each create
		}
		assert.Equal(t, migrate.EventSubmitted, e.Kind, "no look, no wait: %s", e.Message)
	}
	var posts []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts = append(posts, string(r.Body))
		}
	}
	assert.Len(t, posts, 2, "one create per batch reached Twilio")
	all := strings.Join(posts, "\n")
	for i := range 4 {
		assert.Equal(t, 1, strings.Count(all, fmt.Sprintf("+1415555%04d", 300+i)), "each number sent once")
	}
	assert.NoError(t, ctx.Err())
}
