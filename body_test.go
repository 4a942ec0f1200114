package hostednumbers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lyingServer answers every request with a 200 that declares declared
// bytes of body, sends sent bytes of it and closes the connection.
func lyingServer(t *testing.T, declared, sent int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer func() { _ = conn.Close() }()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
			"Twilio-Request-Id: " + ctRequestID + "\r\nContent-Length: " + strconv.Itoa(declared) + "\r\n\r\n")
		_, _ = buf.Write(bytes.Repeat([]byte(" "), sent))
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadBody_DeclaredLengthLargerThanSentIsNotAllocated(t *testing.T) {
	var p bodyBuffers
	var bp *[]byte
	r := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 100)), iotest.ErrReader(io.ErrUnexpectedEOF))
	body, err := p.readBody(r, &bp, 8<<20, DefaultMaxResponseBytes)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Len(t, body, 100)
	assert.LessOrEqual(t, cap(*bp), firstRead, "allocated for the declared 8 MiB instead of what arrived")
}

func TestFetch_DeclaredLengthLargerThanSentCostsWhatArrived(t *testing.T) {
	// The server declares 8 MiB (the default cap) and sends 100 bytes.
	// Pre-allocating the declared length would show as 8 MiB allocated
	// during the call; growing as bytes arrive costs a few KiB.
	srv := lyingServer(t, DefaultMaxResponseBytes, 100)
	c := ctClient(t, srv.URL, WithMaxRetries(0))
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	fetch := func() error {
		_, err := c.BulkHostedNumberOrders.Fetch(ctx, ctBulkSID, nil)
		return err
	}
	require.Error(t, fetch()) // warm up: connections, pools, lazily built tables

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := fetch()
	runtime.ReadMemStats(&after)

	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(2<<20), "a fetch of a 100-byte body allocated %d bytes", allocated)
}

func TestReadBody_HonestLengthEndsInABufferOfThatSize(t *testing.T) {
	var p bodyBuffers
	var bp *[]byte
	want := bytes.Repeat([]byte("0123456789"), 30000)
	body, err := p.readBody(iotest.HalfReader(bytes.NewReader(want)), &bp, int64(len(want)), DefaultMaxResponseBytes)
	require.NoError(t, err)
	assert.Equal(t, want, body)
	assert.Equal(t, len(want)+1, cap(*bp), "room for the body and the read that sees its end")
	assert.Equal(t, body, *bp)
}

func TestReadBody_UnknownLengthGrowsByDoublingUpToTheLimit(t *testing.T) {
	var p bodyBuffers
	want := bytes.Repeat([]byte("a"), 100000)

	var bp *[]byte
	body, err := p.readBody(bytes.NewReader(want), &bp, -1, DefaultMaxResponseBytes)
	require.NoError(t, err)
	assert.Equal(t, want, body)
	assert.LessOrEqual(t, cap(*bp), 2*len(want))

	// Over the limit: limit+1 bytes are read, so the caller can tell.
	bp = nil
	body, err = p.readBody(bytes.NewReader(want), &bp, -1, 5000)
	require.NoError(t, err)
	assert.Len(t, body, 5001)
	assert.LessOrEqual(t, cap(*bp), 5001)

	// A declared length over the limit is capped by the limit too.
	bp = nil
	body, err = p.readBody(bytes.NewReader(want), &bp, int64(len(want)), 5000)
	require.NoError(t, err)
	assert.Len(t, body, 5001)
	assert.LessOrEqual(t, cap(*bp), 5001)
}

func TestReadBody_ReadErrorsAreReturnedWithWhatArrived(t *testing.T) {
	var p bodyBuffers
	var bp *[]byte
	boom := errors.New("connection reset")
	body, err := p.readBody(io.MultiReader(bytes.NewReader([]byte("{\"a\"")), iotest.ErrReader(boom)), &bp, -1, 100)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "{\"a\"", string(body))

	bp = nil
	body, err = p.readBody(bytes.NewReader(nil), &bp, 0, 100)
	require.NoError(t, err)
	assert.Empty(t, body)
}

func TestBodyBuffers_KeepLargeBuffersButNotHugeOnes(t *testing.T) {
	var p bodyBuffers
	assert.Nil(t, p.poolFor(0))
	assert.Same(t, &p.small, p.poolFor(4<<10))
	assert.Same(t, &p.small, p.poolFor(maxSmallBuffer))
	assert.Same(t, &p.large, p.poolFor(maxSmallBuffer+1))
	assert.Same(t, &p.large, p.poolFor(DefaultMaxResponseBytes+1), "a buffer for a body at the default cap is kept")
	assert.Nil(t, p.poolFor(maxPooledBuffer+1))
}

func TestReadBody_AGrowingBodyReusesTheKeptLargeBuffer(t *testing.T) {
	var p bodyBuffers
	big := make([]byte, 0, 1<<20)
	p.put(&big)
	want := bytes.Repeat([]byte("b"), 300000)
	bp := p.get(-1) // unknown length: starts without a buffer
	body, err := p.readBody(bytes.NewReader(want), &bp, -1, DefaultMaxResponseBytes)
	require.NoError(t, err)
	require.Equal(t, want, body)
	assert.Same(t, &big, bp, "the kept large buffer was not used")
	assert.Equal(t, 1<<20, cap(*bp))

	// Given back, it is kept for the next large response.
	p.put(bp)
	assert.Same(t, &big, p.get(2<<20))
}

func TestBodyBuffers_KeptBufferIsLetGoAfterGarbageCollections(t *testing.T) {
	var p bodyBuffers
	big := make([]byte, 0, 4<<20)
	p.put(&big)
	kept := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.kept != nil
	}
	require.True(t, kept())
	// Cleanups run on their own goroutine after a collection; give them
	// a few collections and a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for kept() && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	assert.False(t, kept(), "a large buffer nobody used was still kept after garbage collections")

	// Only one buffer is kept aside; others go to the pool.
	a, b := make([]byte, 0, 1<<20), make([]byte, 0, 1<<20)
	p.put(&a)
	p.put(&b)
	p.mu.Lock()
	assert.Same(t, &a, p.kept)
	p.mu.Unlock()
}
