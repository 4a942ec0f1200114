package hostednumbers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestPayload is a pooled payload of data with the call's reference
// and one body handed to a transport, reading through rc.
func newTestPayload(t *testing.T, data string, rc io.ReadCloser) (*payload, *onceBody) {
	t.Helper()
	pool := &bodyBuffers{}
	buf := pool.requestBuffer(len(data))
	*buf = append(*buf, data...)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1:1/", nil)
	require.NoError(t, err)
	p := setPayload(req, *buf, buf, pool)
	assert.Equal(t, int64(len(data)), req.ContentLength)
	assert.Same(t, p, req.Body)
	if rc == nil {
		m := &memReader{}
		m.Reset(p.data)
		rc = m
	}
	p.hold()
	return p, &onceBody{rc: rc, touched: &atomic.Bool{}, p: p}
}

func TestPayload_ReadDirectlyFails(t *testing.T) {
	p, _ := newTestPayload(t, "{}", nil)
	n, err := p.Read(make([]byte, 8))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, errPayloadRead)
}

// TestPayload_BufferIsReleasedOnlyWhenTheCallAndEveryBodyAreDone: the
// pooled buffer goes back once the call ended and every body handed down
// was closed, in either order, and only once.
func TestPayload_BufferIsReleasedOnlyWhenTheCallAndEveryBodyAreDone(t *testing.T) {
	t.Run("call first", func(t *testing.T) {
		p, b := newTestPayload(t, `{"a":1}`, nil)
		got, err := io.ReadAll(b)
		require.NoError(t, err)
		assert.Equal(t, `{"a":1}`, string(got))
		p.release()
		assert.Equal(t, int32(1), p.refs.Load(), "the body is not closed yet")
		require.NoError(t, b.Close())
		assert.Equal(t, int32(0), p.refs.Load())
		require.NoError(t, b.Close()) // a second Close releases nothing
		assert.Equal(t, int32(0), p.refs.Load())
	})
	t.Run("body first", func(t *testing.T) {
		p, b := newTestPayload(t, `{"a":1}`, nil)
		require.NoError(t, b.Close())
		assert.Equal(t, int32(1), p.refs.Load(), "the call holds it")
		p.release()
		assert.Equal(t, int32(0), p.refs.Load())
	})
}

func TestPayload_ReadAfterCloseTouchesNothing(t *testing.T) {
	p, b := newTestPayload(t, `{"a":1}`, nil)
	require.NoError(t, b.Close())
	n, err := b.Read(make([]byte, 8))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, errBodyClosed)
	var w bytes.Buffer
	_, err = b.WriteTo(&w)
	assert.ErrorIs(t, err, errBodyClosed)
	assert.Zero(t, w.Len())
	assert.False(t, b.touched.Load(), "nothing was read")
	assert.Equal(t, int32(1), p.refs.Load(), "reads after Close release nothing more")
}

// blockingReader blocks in Read until released, as a read of a body
// under way on net/http's writer goroutine can be when the transport
// closes the body from another.
type blockingReader struct {
	entered chan struct{}
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	close(r.entered)
	<-r.release
	return copy(p, "x"), nil
}

func (r *blockingReader) Close() error { return nil }

// TestPayload_CloseDuringAReadReleasesWhenTheReadEnds: Close does not
// wait for a read under way, and the buffer is not given back under it.
func TestPayload_CloseDuringAReadReleasesWhenTheReadEnds(t *testing.T) {
	rd := &blockingReader{entered: make(chan struct{}), release: make(chan struct{})}
	p, b := newTestPayload(t, `{"a":1}`, rd)
	p.release() // the call has ended
	done := make(chan error, 1)
	go func() {
		_, err := b.Read(make([]byte, 8))
		done <- err
	}()
	select {
	case <-rd.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the read never started")
	}
	closed := make(chan struct{})
	go func() { _ = b.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the read")
	}
	assert.Equal(t, int32(1), p.refs.Load(), "released under a read")
	close(rd.release)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the read never ended")
	}
	assert.Equal(t, int32(0), p.refs.Load(), "released once the read ended")
}

// TestCreate_PooledBodiesGoOutByteForByte: concurrent creates of
// different orders through one client, whose request buffers come from
// and go back to one pool, each send exactly their own body, and the
// answers may come before the server has read the body.
func TestCreate_PooledBodiesGoOutByteForByte(t *testing.T) {
	const kinds, perWorker, workers = 4, 15, 6
	want := map[string]string{}
	params := make([]*CreateBulkHostedNumberOrderParams, kinds)
	for k := range params {
		p := &CreateBulkHostedNumberOrderParams{FriendlyName: fmt.Sprintf("order %d", k)}
		item := RequestItem{Email: "owner@example.com", ContactPhoneNumber: "+14155550100"}
		for i := 0; i < 1+k*400; i++ { // from one number to 1201: pool buffers of every size
			item.Numbers = append(item.Numbers, Number{PhoneNumber: fmt.Sprintf("+1628%07d", k*10000+i)})
		}
		p.RequestItems = []RequestItem{item}
		body, err := p.MarshalJSON()
		require.NoError(t, err)
		want[p.FriendlyName] = string(body)
		params[k] = p
	}
	created, err := os.ReadFile("testdata/create_202.json")
	require.NoError(t, err)
	var mismatches, early atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if early.Add(1)%5 == 0 {
			// Answer before reading: the client may still be writing.
			w.Header().Set("Connection", "close")
			ctWrite(w, http.StatusBadRequest, []byte(`{"code":21211,"message":"no","status":400}`))
			return
		}
		got, _ := io.ReadAll(r.Body)
		var head struct {
			FriendlyName string `json:"friendly_name"`
		}
		if json.Unmarshal(got, &head) != nil || want[head.FriendlyName] != string(got) {
			mismatches.Add(1)
		}
		ctWrite(w, http.StatusAccepted, created)
	}))
	t.Cleanup(srv.Close)
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				_, err := c.BulkHostedNumberOrders.Create(ctx, params[(w+i)%kinds])
				var apiErr *APIError
				if err != nil && !errors.As(err, &apiErr) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, mismatches.Load(), "bodies that were not the order's own")
}

// lateReader is a transport that answers at once and reads the request
// body later, on another goroutine, after RoundTrip has returned, as the
// RoundTripper contract allows (net/http's writer can still be sending a
// body when the answer has come).
type lateReader struct {
	answer []byte
	start  chan struct{} // closed when the late reads may begin
	wg     sync.WaitGroup
	mu     sync.Mutex
	got    []string
}

func (rt *lateReader) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		<-rt.start
		b, err := io.ReadAll(body)
		_ = body.Close()
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if err != nil {
			rt.got = append(rt.got, "error: "+err.Error())
			return
		}
		rt.got = append(rt.got, string(b))
	}()
	return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(rt.answer)), ContentLength: int64(len(rt.answer)), Request: req}, nil
}

// TestCreate_ABodyReadAfterTheCallIsStillItsOwn: the pooled buffer of a
// call whose body the transport reads only after the call has returned
// is not reused by the next call before that read is done.
func TestCreate_ABodyReadAfterTheCallIsStillItsOwn(t *testing.T) {
	created, err := os.ReadFile("testdata/create_202.json")
	require.NoError(t, err)
	rt := &lateReader{answer: created, start: make(chan struct{})}
	c := ctClient(t, "http://127.0.0.1:1", WithHTTPClient(&http.Client{Transport: rt}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var want []string
	for k := 0; k < 6; k++ {
		p := &CreateBulkHostedNumberOrderParams{FriendlyName: fmt.Sprintf("order %d", k)}
		item := RequestItem{Email: "owner@example.com", ContactPhoneNumber: "+14155550100"}
		for i := 0; i < 50; i++ {
			item.Numbers = append(item.Numbers, Number{PhoneNumber: fmt.Sprintf("+1628%07d", k*1000+i)})
		}
		p.RequestItems = []RequestItem{item}
		body, err := p.MarshalJSON()
		require.NoError(t, err)
		want = append(want, string(body))
		_, err = c.BulkHostedNumberOrders.Create(ctx, p)
		require.NoError(t, err)
	}
	close(rt.start)
	done := make(chan struct{})
	go func() { rt.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the late reads never ended")
	}
	assert.ElementsMatch(t, want, rt.got, "each late read sees its own call's body")
}
