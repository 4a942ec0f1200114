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
		defer conn.Close()
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

func TestReadBody_AGrowingBodyReusesALargeBuffer(t *testing.T) {
	var p bodyBuffers
	want := bytes.Repeat([]byte("b"), 300000)
	// sync.Pool may drop what is put in it (it does so at random under
	// the race detector), so try a few times.
	for attempt := 0; attempt < 20; attempt++ {
		big := make([]byte, 0, 1<<20)
		p.put(&big)
		bp := p.get(-1) // unknown length: starts from a small buffer
		body, err := p.readBody(bytes.NewReader(want), &bp, -1, DefaultMaxResponseBytes)
		require.NoError(t, err)
		require.Equal(t, want, body)
		if cap(*bp) == 1<<20 && &(*bp)[:1][0] == &big[:1][0] {
			p.put(bp)
			return
		}
	}
	t.Fatal("the pooled large buffer was never used")
}
