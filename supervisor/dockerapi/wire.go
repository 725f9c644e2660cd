package dockerapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// The Docker Engine API over HTTP/1.1, written here rather than taken from
// github.com/docker/docker/client: that library, with the OpenTelemetry,
// image-reference and HTTP/2 code it brings, was 3.1 MB of our 8.9 MB
// binary, 6 ms of CPU at every start (its packages' regexp compiling at
// init) and 2.7 MiB of every supervisor's resident memory (bench/results.md).
// We use a dozen endpoints, no request bodies, and one connection per
// request (Connection: close), so what is needed is small: a request line,
// headers, a body of known length, chunked or read to the end, and for
// attach the connection itself.

// defaultHost is where dockerd listens unless DOCKER_HOST says otherwise.
const defaultHost = "unix:///var/run/docker.sock"

// maxAPIVersion is the newest API version we ask for; an older daemon's
// own version is taken instead (negotiation, as the docker CLI does).
const maxAPIVersion = "1.51"

// wire is the connection to one daemon.
type wire struct {
	host    string // as DOCKER_HOST names it, for messages
	network string // "unix" or "tcp"
	addr    string
	// version is the API version requests are made with ("1.41"); set
	// once, by the first contact or by DOCKER_API_VERSION.
	version string
}

// newWire reads the daemon's address from the environment as the docker
// CLI does. Only what a supervisor on the daemon's host can use is taken:
// a unix socket or plain TCP. getenv is os.Getenv outside tests.
func newWire(getenv func(string) string) (*wire, error) {
	host := getenv("DOCKER_HOST")
	if host == "" {
		host = defaultHost
	}
	w := &wire{host: host, version: getenv("DOCKER_API_VERSION")}
	scheme, addr, ok := strings.Cut(host, "://")
	switch {
	case !ok:
		return nil, fmt.Errorf("DOCKER_HOST=%s has no scheme; write unix:///path/to/docker.sock or tcp://HOST:PORT", host)
	case scheme == "unix" && addr != "":
		w.network, w.addr = "unix", addr
	case scheme == "tcp" && addr != "":
		if getenv("DOCKER_TLS_VERIFY") != "" || getenv("DOCKER_CERT_PATH") != "" {
			return nil, fmt.Errorf("DOCKER_HOST=%s with TLS (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH): systemd-docker must run on the daemon's own host; use its unix socket (DOCKER_HOST=%s)", host, defaultHost)
		}
		w.network, w.addr = "tcp", strings.TrimSuffix(addr, "/")
		if _, _, err := net.SplitHostPort(w.addr); err != nil {
			w.addr = net.JoinHostPort(w.addr, "2375")
		}
	default:
		return nil, fmt.Errorf("DOCKER_HOST=%s: systemd-docker speaks to a daemon on its own host, over unix:// or tcp://; write unix:///path/to/docker.sock", host)
	}
	return w, nil
}

// request is one call to the API.
type request struct {
	method string
	path   string // without the version: "/containers/ID/json"
	query  url.Values
	// hijack asks for the connection itself (attach): the answer's body is
	// the raw stream and outlives the request's ctx until it is closed.
	hijack bool
}

// response is the daemon's answer; its body must be closed.
type response struct {
	status int
	header textproto.MIMEHeader
	body   io.ReadCloser
}

// connError says that nothing answered on the daemon's address.
type connError struct {
	host string
	err  error
}

func (e *connError) Error() string {
	return fmt.Sprintf("cannot connect to the docker daemon at %s: %v", e.host, e.err)
}

func (e *connError) Unwrap() error { return e.err }

// APIError is the daemon's refusal: its HTTP status and message.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return "Error response from daemon: " + e.Message }

// statusIs reports whether err is the daemon's answer with that status.
func statusIs(err error, status ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, s := range status {
		if ae.Status == s {
			return true
		}
	}
	return false
}

// do sends req and reads the answer's status and headers. A status of 400
// or more is an *APIError; an answer with a body is returned open. ctx
// bounds the whole exchange, the body's reading included (not a hijacked
// stream's, once it is established).
func (w *wire) do(ctx context.Context, req request) (*response, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, w.network, w.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &connError{host: w.host, err: err}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	resp, err := w.exchange(conn, req)
	if err != nil {
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	if req.hijack && !stop() {
		conn.Close()
		return nil, context.Cause(ctx)
	}
	resp.body = &body{r: resp.body, conn: conn, stop: stop, ctx: ctx, hijacked: req.hijack}
	return resp, nil
}

// exchange writes the request and reads the answer up to its body.
func (w *wire) exchange(conn net.Conn, req request) (*response, error) {
	if _, err := io.WriteString(conn, w.head(req)); err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	br := bufio.NewReaderSize(conn, 32<<10)
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("%s %s: the daemon closed the connection before answering: %w", req.method, req.path, err)
	}
	status, err := parseStatus(line)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil && !(errors.Is(err, io.EOF) && len(header) > 0) {
		return nil, fmt.Errorf("%s %s: reading the answer's headers: %w", req.method, req.path, err)
	}
	resp := &response{status: status, header: header, body: bodyOf(br, header, status, req.hijack)}
	if status >= 400 {
		return nil, apiError(resp)
	}
	return resp, nil
}

// head is the request line and headers.
func (w *wire) head(req request) string {
	var b strings.Builder
	path := req.path
	if path != "/_ping" && w.version != "" {
		path = "/v" + w.version + path
	}
	fmt.Fprintf(&b, "%s %s", req.method, (&url.URL{Path: path}).EscapedPath())
	if len(req.query) > 0 {
		b.WriteString("?" + req.query.Encode())
	}
	host := "docker"
	if w.network == "tcp" {
		host = w.addr
	}
	fmt.Fprintf(&b, " HTTP/1.1\r\nHost: %s\r\nUser-Agent: systemd-docker\r\n", host)
	if req.method == "POST" {
		b.WriteString("Content-Length: 0\r\n")
	}
	if req.hijack {
		b.WriteString("Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	} else {
		b.WriteString("Connection: close\r\n\r\n")
	}
	return b.String()
}

// parseStatus reads "HTTP/1.1 200 OK".
func parseStatus(line string) (int, error) {
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || status < 100 {
		return 0, fmt.Errorf("not an HTTP answer: %.60q", line)
	}
	return status, nil
}

// bodyOf is the answer's body as its headers describe it.
func bodyOf(br *bufio.Reader, h textproto.MIMEHeader, status int, hijack bool) io.ReadCloser {
	switch {
	case hijack && (status == 101 || status == 200):
		return io.NopCloser(br) // the raw stream, buffered bytes first
	case status == 204 || status == 304:
		return io.NopCloser(strings.NewReader(""))
	case strings.EqualFold(h.Get("Transfer-Encoding"), "chunked"):
		return io.NopCloser(&chunked{r: br})
	case h.Get("Content-Length") != "":
		n, _ := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		return io.NopCloser(io.LimitReader(br, n))
	}
	return io.NopCloser(br) // until the daemon closes (Connection: close)
}

// apiError reads a refusal's message: {"message": "…"}, or plain text.
func apiError(resp *response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &m) == nil && m.Message != "" {
		msg = m.Message
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP status %d", resp.status)
	}
	return &APIError{Status: resp.status, Message: msg}
}

// body is an answer's body with its connection: closing it closes the
// connection; an error after ctx ended is ctx's.
type body struct {
	r        io.ReadCloser
	conn     net.Conn
	stop     func() bool
	ctx      context.Context
	hijacked bool
	once     sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && !b.hijacked && b.ctx.Err() != nil {
		err = context.Cause(b.ctx)
	}
	return n, err
}

func (b *body) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
	})
	return nil
}

// chunked reads a body sent with Transfer-Encoding: chunked (RFC 9112
// 7.1): hex size, CRLF, data, CRLF; a size of 0 ends it (trailers are
// not read: the connection closes).
type chunked struct {
	r    *bufio.Reader
	left int64 // of the current chunk
	data bool  // a chunk's data was read: its CRLF comes next
	err  error
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		if c.err = c.next(); c.err != nil {
			return 0, c.err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	c.err = err
	return n, err
}

// next reads the end of the last chunk and the size of the next one.
func (c *chunked) next() error {
	if c.data {
		if crlf, err := c.r.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return chunkErr(err, "no CRLF after a chunk")
		}
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return chunkErr(err, "")
	}
	size, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
	n, perr := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
	if perr != nil || n < 0 {
		return fmt.Errorf("chunked body: bad chunk size %.20q", line)
	}
	if n == 0 {
		return io.EOF
	}
	c.left, c.data = n, true
	return nil
}

func chunkErr(err error, what string) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if err == nil {
		return errors.New("chunked body: " + what)
	}
	return err
}
