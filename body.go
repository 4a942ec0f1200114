package hostednumbers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
)

// Response bodies are read into buffers kept in two pools, so that a
// service fetching large orders reuses their buffers instead of growing a
// new one for every response, while a burst of large responses does not
// keep its memory alive: sync.Pool drops what has not been used for two
// garbage collections.
const (
	// firstRead is the most the client allocates for a body before any of
	// it has arrived, whatever its Content-Length says; beyond that the
	// buffer doubles as bytes are read.
	firstRead = 64 << 10
	// minRead is the first allocation for a body of unknown length.
	minRead = 4 << 10
	// maxSmallBuffer is the largest buffer kept in the pool for ordinary
	// responses; larger ones go to the pool for large responses.
	maxSmallBuffer = firstRead
	// maxPooledBuffer is the largest buffer kept for reuse at all.
	maxPooledBuffer = 16 << 20
)

// bodyBuffers are the pools of response buffers. Each holds *[]byte with
// length 0. One large buffer is also kept aside (sync.Pool keeps what a
// goroutine put in a per-processor slot that a goroutine on another
// processor cannot take, so a service reading one large response at a time
// would miss it about half the time); it is let go once two garbage
// collections have passed without it being used.
type bodyBuffers struct {
	small, large sync.Pool
	// requests holds the buffers request bodies are encoded into (see
	// requestBuffer), apart from the response buffers, whose sizes are
	// another matter.
	requests sync.Pool

	mu   sync.Mutex
	kept *[]byte // the large buffer kept aside, if any
	gen  uint64  // counts takes and puts of kept
}

// get returns a buffer for a body of contentLength bytes (-1: unknown), or
// nil when the pool has none and the reader should allocate as bytes
// arrive.
func (p *bodyBuffers) get(contentLength int64) *[]byte {
	if contentLength > maxSmallBuffer {
		return p.getLarge()
	}
	if b, ok := p.small.Get().(*[]byte); ok {
		return b
	}
	return nil
}

// put keeps b for reuse unless it is too large to keep.
func (p *bodyBuffers) put(b *[]byte) {
	if b == nil {
		return
	}
	pool := p.poolFor(cap(*b))
	if pool == nil {
		return
	}
	*b = (*b)[:0]
	if pool == &p.large && p.keep(b) {
		return
	}
	pool.Put(b)
}

// getLarge returns the large buffer kept aside, else one from the pool,
// else nil.
func (p *bodyBuffers) getLarge() *[]byte {
	p.mu.Lock()
	b := p.kept
	if b != nil {
		p.kept = nil
		p.gen++
	}
	p.mu.Unlock()
	if b != nil {
		return b
	}
	if b, ok := p.large.Get().(*[]byte); ok {
		return b
	}
	return nil
}

// keep sets b aside unless a buffer is already kept, and arranges for it
// to be let go after two garbage collections without use.
func (p *bodyBuffers) keep(b *[]byte) bool {
	p.mu.Lock()
	if p.kept != nil {
		p.mu.Unlock()
		return false
	}
	p.kept = b
	p.gen++
	gen := p.gen
	p.mu.Unlock()
	p.expire(gen, 2)
	return true
}

// expire lets the kept buffer go once cycles more garbage collections have
// run, unless it has been taken or replaced (gen moved on) by then. A
// sentinel's cleanup runs after the collection that finds it unreachable.
func (p *bodyBuffers) expire(gen uint64, cycles int) {
	sentinel := new(struct{ _ *byte }) // holds a pointer: never tiny-allocated
	runtime.AddCleanup(sentinel, func(cycles int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.gen != gen {
			return
		}
		if cycles > 1 {
			p.expire(gen, cycles-1)
			return
		}
		p.kept = nil
	}, cycles)
}

// poolFor returns the pool that keeps buffers of capacity c, nil for none.
func (p *bodyBuffers) poolFor(c int) *sync.Pool {
	switch {
	case c == 0 || c > maxPooledBuffer:
		return nil
	case c > maxSmallBuffer:
		return &p.large
	}
	return &p.small
}

// readBody appends r's bytes to *bp, stopping after limit+1 bytes so that
// the caller can tell a body over the limit, and returns them. *bp is
// replaced whenever the buffer has to grow (bp nil: a new buffer is made),
// so that the caller can give the final buffer back to the pool.
//
// Memory follows what arrives: at most firstRead bytes are allocated
// before any byte is read, however large contentLength is, and the buffer
// then doubles as it fills, never past contentLength+1 (room to see the
// end of the body) or limit+1. A declared length that is a lie therefore
// costs at most twice what was actually sent, and an honest one ends in a
// buffer of exactly the right size. When the buffer outgrows the small
// pool's size, a buffer from the large pool is used instead of a new one.
func (p *bodyBuffers) readBody(r io.Reader, bp **[]byte, contentLength, limit int64) ([]byte, error) {
	if *bp == nil {
		*bp = new([]byte)
	}
	buf := **bp
	stop := limit + 1
	for int64(len(buf)) < stop {
		if len(buf) == cap(buf) {
			buf = p.grow(bp, buf, contentLength, stop)
		}
		end := cap(buf)
		if int64(end) > stop {
			end = int(stop)
		}
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err != nil {
			**bp = buf
			if errors.Is(err, io.EOF) {
				return buf, nil
			}
			return buf, err
		}
	}
	**bp = buf
	return buf, nil
}

// grow returns buf with more capacity, following readBody's rules.
func (p *bodyBuffers) grow(bp **[]byte, buf []byte, contentLength, stop int64) []byte {
	want := int64(2 * cap(buf))
	switch {
	case cap(buf) > 0:
	case contentLength >= 0:
		want = min(contentLength+1, firstRead)
	default:
		want = minRead
	}
	if contentLength >= int64(len(buf)) {
		want = min(want, contentLength+1)
	}
	want = max(min(want, stop), int64(len(buf))+1)
	if want > maxSmallBuffer && cap(buf) <= maxSmallBuffer {
		// Moving up to the size of large responses: reuse one if the
		// pool has one large enough (a smaller one is left to the
		// garbage collector; the buffer made here replaces it).
		if big := p.getLarge(); big != nil && int64(cap(*big)) >= want {
			nb := append((*big)[:0], buf...)
			p.put(*bp)
			*big = nb
			*bp = big
			return nb
		}
	}
	nb := make([]byte, len(buf), want)
	copy(nb, buf)
	**bp = nb
	return nb
}

// decodeBody decodes a successful response into out: with out's own
// single-pass decoder when it has one, else with encoding/json.
func decodeBody(data []byte, out any) error {
	if d, ok := out.(interface{ decodeJSON([]byte) error }); ok {
		return d.decodeJSON(data)
	}
	return json.Unmarshal(data, out)
}

// payload is the body of an SDK request, encoded once and held in memory
// for all the attempts of the call. It travels down to onceTransport as
// the request's Body, and onceTransport gives each attempt a reader of
// its own over it (see onceTransport.RoundTrip): retryablehttp is handed
// no body to rewind, so it makes no reader, closure or io.NopCloser of
// its own per call and per attempt, and no attempt's reader is shared
// with an earlier attempt that net/http may still be closing.
//
// A payload is read only through onceTransport, which every request of
// the client passes; read in any other way it fails, so that a body can
// never be half-consumed by one layer and then sent short by another.
//
// A payload whose bytes came from the client's buffer pool gives them
// back once nothing can read them any more: the call has ended (its own
// reference) and every body handed to the transport for it has been
// closed, and no read of one is under way (see onceBody). A transport
// that never closes a body keeps the buffer from the pool: it is then
// left to the garbage collector, never reused early.
type payload struct {
	data []byte
	buf  *[]byte // the pooled buffer data is in; nil when not pooled
	pool *bodyBuffers
	refs atomic.Int32 // the call's, and one per body not yet finished
}

// errPayloadRead is what reading a payload directly returns.
var errPayloadRead = errors.New("hostednumbers: request body read outside the client's transport")

func (p *payload) Read([]byte) (int, error) { return 0, errPayloadRead }

// Close does nothing: the call holds the payload until it returns.
func (p *payload) Close() error { return nil }

// hold takes a reference to the payload's bytes for a body handed to the
// transport.
func (p *payload) hold() { p.refs.Add(1) }

// release drops a reference; the last gives a pooled buffer back.
func (p *payload) release() {
	if p.refs.Add(-1) == 0 && p.buf != nil {
		p.pool.putRequest(p.buf)
	}
}

// setPayload gives req (made without a body) data as its body: a
// payload, with the matching Content-Length. buf, when not nil, is the
// buffer of pool that data is in; it goes back to pool once the caller
// has called release on the payload returned and no body of it handed to
// the transport is in use.
func setPayload(req *http.Request, data []byte, buf *[]byte, pool *bodyBuffers) *payload {
	p := &payload{data: data, buf: buf, pool: pool}
	p.refs.Store(1)
	req.Body, req.ContentLength = p, int64(len(data))
	return p
}

// requestBuffer returns a buffer of length 0 and capacity at least size
// for encoding a request body into: a buffer given back with putRequest
// when one is at hand and large enough (a smaller one is left to the
// garbage collector, so that the pool comes to hold buffers of the size
// the service sends), else a new one.
func (p *bodyBuffers) requestBuffer(size int) *[]byte {
	if b, ok := p.requests.Get().(*[]byte); ok && cap(*b) >= size {
		return b
	}
	b := make([]byte, 0, size)
	return &b
}

// putRequest keeps b, a request body no longer in use, for another
// request, unless it is too large to keep.
func (p *bodyBuffers) putRequest(b *[]byte) {
	if b == nil || cap(*b) == 0 || cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	p.requests.Put(b)
}

// memReader reads an in-memory body; Close does nothing. Its WriteTo
// (bytes.Reader's) writes the body in one call.
type memReader struct{ bytes.Reader }

// Close does nothing: the bytes belong to the payload.
func (*memReader) Close() error { return nil }
