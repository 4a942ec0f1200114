package hostednumbers

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"

	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// h2Server is a minimal HTTP/2 server over TLS on loopback, written at the
// frame level so that it can answer a request stream the way a misbehaving
// server or proxy would: reset it with any error code, or send GOAWAY, after
// the whole request has arrived. It counts the request streams it saw, which
// is what the exactly-once tests assert on.
type h2Server struct {
	URL   string
	roots *x509.CertPool

	ln      net.Listener
	action  atomic.Value // h2Action
	streams atomic.Int64
	conns   atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	open    map[net.Conn]bool
}

// h2Action is what the server does once a request stream is complete.
type h2Action struct {
	// reset, when not 0, resets the stream with this error code
	// (PROTOCOL_ERROR is 1, REFUSED_STREAM 7, ...). When resetAll is false
	// only the first stream of each connection is reset.
	reset uint32
	// goAway sends GOAWAY with last stream ID 0 (or lastStream) and the
	// code reset instead of a stream reset.
	goAway     bool
	lastStream uint32
	// debug is the GOAWAY's debug data; closeAfter closes the connection
	// right after the GOAWAY, so that streams up to lastStream fail with
	// the GOAWAY's error (and its debug data) instead of waiting.
	debug      string
	closeAfter bool
	// status and body answer the stream when neither reset nor goAway is set.
	status string
	body   string
}

const (
	h2FrameData         = 0x0
	h2FrameHeaders      = 0x1
	h2FrameRSTStream    = 0x3
	h2FrameSettings     = 0x4
	h2FramePing         = 0x6
	h2FrameGoAway       = 0x7
	h2FrameContinuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4

	h2CodeProtocol      = 0x1
	h2CodeInternal      = 0x2
	h2CodeFlowControl   = 0x3
	h2CodeStreamClosed  = 0x5
	h2CodeRefusedStream = 0x7
	h2CodeCancel        = 0x8
	h2CodeEnhanceCalm   = 0xb
)

func newH2Server(t *testing.T, a h2Action) *h2Server {
	t.Helper()
	cert, roots := selfSignedCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2"},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &h2Server{URL: "https://" + ln.Addr().String(), roots: roots, ln: ln, open: map[net.Conn]bool{}}
	s.action.Store(a)
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *h2Server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *h2Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			s.serveConn(c)
		}()
	}
}

func writeFrame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	var hdr [9]byte
	n := len(payload) & 0xffffff // frames here are far below 16 MiB
	hdr[0], hdr[1], hdr[2] = byte(n>>16), byte(n>>8&0xff), byte(n&0xff)
	hdr[3], hdr[4] = typ, flags
	binary.BigEndian.PutUint32(hdr[5:], stream&0x7fffffff)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// hpackLiteral encodes a header field as "literal without indexing, indexed
// name" from HPACK's static table (no Huffman coding).
func hpackLiteral(nameIndex byte, value string) []byte {
	out := []byte{}
	if nameIndex < 15 {
		out = append(out, nameIndex)
	} else {
		out = append(out, 0x0f, nameIndex-15)
	}
	out = append(out, byte(len(value)&0x7f)) //nolint:gosec // short literal values only: a 7-bit length
	return append(out, value...)
}

func (s *h2Server) serveConn(c net.Conn) {
	r := bufio.NewReader(c)
	preface := make([]byte, 24)
	if _, err := io.ReadFull(r, preface); err != nil || string(preface) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
		return
	}
	var wmu sync.Mutex
	write := func(typ, flags byte, stream uint32, payload []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeFrame(c, typ, flags, stream, payload)
	}
	if write(h2FrameSettings, 0, 0, nil) != nil {
		return
	}
	complete := func(stream uint32) error {
		s.streams.Add(1)
		a := s.action.Load().(h2Action)
		switch {
		case a.goAway:
			p := make([]byte, 8, 8+len(a.debug))
			binary.BigEndian.PutUint32(p, a.lastStream)
			binary.BigEndian.PutUint32(p[4:], a.reset)
			p = append(p, a.debug...)
			if err := write(h2FrameGoAway, 0, 0, p); err != nil || !a.closeAfter {
				return err
			}
			_ = c.Close()
			return io.EOF
		case a.reset != 0:
			p := make([]byte, 4)
			binary.BigEndian.PutUint32(p, a.reset)
			return write(h2FrameRSTStream, 0, stream, p)
		}
		hdrs := append(hpackLiteral(8, a.status), hpackLiteral(31, "application/json")...)
		if err := write(h2FrameHeaders, h2FlagEndHeaders, stream, hdrs); err != nil {
			return err
		}
		return write(h2FrameData, h2FlagEndStream, stream, []byte(a.body))
	}
	var hdr [9]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := hdr[3], hdr[4]
		stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		var err error
		switch typ {
		case h2FrameSettings:
			if flags&h2FlagAck == 0 {
				err = write(h2FrameSettings, h2FlagAck, 0, nil)
			}
		case h2FramePing:
			if flags&h2FlagAck == 0 {
				err = write(h2FramePing, h2FlagAck, 0, payload)
			}
		case h2FrameHeaders, h2FrameData:
			if flags&h2FlagEndStream != 0 {
				err = complete(stream)
			}
		}
		if err != nil {
			return
		}
	}
}

func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
