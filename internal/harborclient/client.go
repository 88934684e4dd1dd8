package harborclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Harbor's timing constants (client.go, job.go).
const (
	DefaultTimeout            = 5 * time.Second
	DefaultFirstCheckInterval = 2 * time.Second
	DefaultRefreshInterval    = 5 // seconds, when Refresh-After is missing or bad
	RefreshAfterHeader        = "Refresh-After"
)

// Options configure a Client. The zero value of every field is Harbor's
// behaviour.
type Options struct {
	URL            string // registration URL, normalised as Harbor does
	Auth           string // "", Basic, Bearer, APIKey (or X-ScannerAdapter-API-Key)
	Credential     string // access_credential; for Basic the whole "user:pass"
	SkipCertVerify bool
	// RootCAs replaces the system trust store; Harbor uses the container's
	// store, into which operators put Harbor's CA bundle.
	RootCAs *x509.CertPool
	// Timeout of every call, headers and body included (Harbor: 5 s).
	Timeout time.Duration
	// FirstCheckInterval is the wait before a job's first poll (Harbor: 2 s).
	FirstCheckInterval time.Duration
	// RetryUnit is what one second of Refresh-After lasts (Harbor: 1 s);
	// tests shrink it to keep Harbor's arithmetic without its waiting.
	RetryUnit time.Duration
	// Transport, if set, replaces Harbor's transport (TLS options unused).
	Transport http.RoundTripper
	// Logf receives what Harbor would log (Refresh-After parse errors).
	Logf func(format string, args ...any)
}

// Stats counts the client's calls; safe to read while jobs run.
type Stats struct {
	Metadata     int64 // GET /metadata sent
	Submits      int64 // POST /scan sent
	Polls        int64 // GET report sent
	NotReady     int64 // 302 answers
	Reports      int64 // 200 report answers
	Failures     int64 // calls that ended in an error other than 302
	RefreshFalls int64 // 302s whose Refresh-After was missing or unparsable (5 s used)
}

// Client speaks to one adapter registration as Harbor's v1 client does.
// It is safe for concurrent use; share one per registration, as Harbor's
// client pool does.
type Client struct {
	base string // normalised URL + /api/v1
	http *http.Client
	auth authorizer
	opt  Options

	metadata, submits, polls, notReady, reports, failures, refreshFalls atomic.Int64
}

// New builds a client as Harbor's NewClient does.
func New(o Options) (*Client, error) {
	base, err := NormalizeURL(o.URL)
	if err != nil {
		return nil, err
	}
	a, err := newAuthorizer(o.Auth, o.Credential)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FirstCheckInterval <= 0 {
		o.FirstCheckInterval = DefaultFirstCheckInterval
	}
	if o.RetryUnit <= 0 {
		o.RetryUnit = time.Second
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   30 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: o.SkipCertVerify, //nolint:gosec // Harbor's skip_certVerify
				RootCAs:            o.RootCAs,
			},
		}
	}
	return &Client{
		base: base + "/api/v1",
		http: &http.Client{
			Timeout:   o.Timeout,
			Transport: tr,
			// Harbor hands the 302 to its own code and never follows it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		auth: a,
		opt:  o,
	}, nil
}

// BaseURL is the URL the API paths are appended to, /api/v1 included.
func (c *Client) BaseURL() string { return c.base }

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{
		Metadata: c.metadata.Load(), Submits: c.submits.Load(), Polls: c.polls.Load(),
		NotReady: c.notReady.Load(), Reports: c.reports.Load(), Failures: c.failures.Load(),
		RefreshFalls: c.refreshFalls.Load(),
	}
}

// CloseIdleConnections releases pooled connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// ErrNotReady is matched (errors.Is) by every *ReportNotReadyError.
var ErrNotReady = errors.New("harborclient: report is not ready")

// ReportNotReadyError is a 302: poll again after RetryAfter seconds.
type ReportNotReadyError struct {
	RetryAfter int
	Header     string // the Refresh-After value received, "" if none
	ParseErr   error  // why Header was not used, if it was not
}

func (e *ReportNotReadyError) Error() string {
	return fmt.Sprintf("report is not ready yet, retry after %d", e.RetryAfter)
}

// Is makes errors.Is(err, ErrNotReady) true.
func (e *ReportNotReadyError) Is(target error) bool { return target == ErrNotReady }

// ResponseError is an answer with an unexpected status. Its text is
// Harbor's; the other fields are for diagnosis.
type ResponseError struct {
	StatusCode  int
	Expected    int
	ContentType string
	Body        []byte // at most the first KiB
	Message     string // error.message of a JSON ErrorResponse
	// DecodeErr is set when the body was not JSON; Harbor then reports only
	// this parse error, which hides the status code.
	DecodeErr error
	hasBody   bool
}

func (e *ResponseError) Error() string {
	switch {
	case e.DecodeErr != nil:
		return "general response handler: " + e.DecodeErr.Error()
	case e.hasBody:
		return fmt.Sprintf("%s: general response handler: unexpected status code: %d, expected: %d", e.Message, e.StatusCode, e.Expected)
	default:
		return fmt.Sprintf("general response handler: unexpected status code: %d, expected: %d", e.StatusCode, e.Expected)
	}
}

// Unwrap exposes the JSON error, if any.
func (e *ResponseError) Unwrap() error { return e.DecodeErr }

// errorResponse is Harbor's v1.ErrorResponse.
type errorResponse struct {
	Err *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// GetMetadata is Harbor's GetMetadata: exactly 200, body decoded into
// Harbor's shape. It does not Validate; Harbor's Ping does that next.
func (c *Client) GetMetadata(ctx context.Context) (*Metadata, error) {
	c.metadata.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metadata", nil)
	if err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: get metadata: %w", err))
	}
	req.Header.Add("Accept", MimeTypeAdapterMeta)
	data, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: get metadata: %w", err))
	}
	md := &Metadata{}
	if err := json.Unmarshal(data, md); err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: get metadata: %w", err))
	}
	return md, nil
}

// SubmitScan is Harbor's SubmitScan: Harbor's headers and body, exactly 202.
func (c *Client) SubmitScan(ctx context.Context, sr *ScanRequest) (*ScanResponse, error) {
	if sr == nil {
		return nil, errors.New("nil request")
	}
	c.submits.Add(1)
	body, err := json.Marshal(sr)
	if err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: submit scan: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/scan", bytes.NewReader(body))
	if err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: submit scan: %w", err))
	}
	req.Header.Add("Content-Type", MimeTypeScanRequest)
	req.Header.Add("Accept", MimeTypeScanResponse)
	data, err := c.send(req, http.StatusAccepted)
	if err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: submit scan: %w", err))
	}
	resp := &ScanResponse{}
	if err := json.Unmarshal(data, resp); err != nil {
		return nil, c.fail(fmt.Errorf("v1 client: submit scan: %w", err))
	}
	return resp, nil
}

// GetScanReport is Harbor's GetScanReport. urlParam is the query without
// "?" ("" for vulnerability jobs). A 302 gives a *ReportNotReadyError and
// its retryAfter in seconds (Refresh-After as an int8, else 5). Errors other
// than building the request are not wrapped, as in Harbor.
func (c *Client) GetScanReport(ctx context.Context, id, mime, urlParam string) (body []byte, retryAfter int, err error) {
	if id == "" {
		return nil, 0, c.fail(errors.New("empty scan request ID"))
	}
	if mime == "" {
		return nil, 0, c.fail(errors.New("missing report mime type"))
	}
	c.polls.Add(1)
	u := c.base + "/scan/" + id + "/report"
	if urlParam != "" {
		u += "?" + urlParam
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, c.fail(fmt.Errorf("v1 client: get scan report: %w", err))
	}
	req.Header.Add("Accept", mime)
	if err := c.auth.authorize(req); err != nil {
		return nil, 0, c.fail(fmt.Errorf("send: authorization: %w", err))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, c.fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		// Harbor neither reads nor drains a 302 body: a non-empty one costs
		// the keep-alive connection, and so it does here.
		c.notReady.Add(1)
		nr := &ReportNotReadyError{RetryAfter: DefaultRefreshInterval}
		if v := resp.Header.Get(RefreshAfterHeader); v != "" {
			nr.Header = v
			if i, perr := strconv.ParseInt(v, 10, 8); perr == nil {
				nr.RetryAfter = int(i)
			} else {
				nr.ParseErr = perr
				c.logf("Parse `%s` error: %s", RefreshAfterHeader, perr)
			}
		}
		if nr.Header == "" || nr.ParseErr != nil {
			c.refreshFalls.Add(1)
		}
		return nil, nr.RetryAfter, nr
	}
	data, err := handle(resp, http.StatusOK)
	if err != nil {
		return nil, 0, c.fail(err)
	}
	c.reports.Add(1)
	return data, 0, nil
}

// send authorizes, sends and applies Harbor's general response handler.
func (c *Client) send(req *http.Request, expected int) ([]byte, error) {
	if err := c.auth.authorize(req); err != nil {
		return nil, fmt.Errorf("send: authorization: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return handle(resp, expected)
}

// handle is Harbor's generalRespHandlerFunc: the whole body is read (within
// the client timeout); a wrong status is an error whose text depends on
// whether the body is empty, JSON, or not JSON.
func handle(resp *http.Response, expected int) ([]byte, error) {
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == expected {
		return buf, nil
	}
	re := &ResponseError{
		StatusCode:  resp.StatusCode,
		Expected:    expected,
		ContentType: resp.Header.Get("Content-Type"),
		Body:        buf[:min(len(buf), 1024)],
		hasBody:     len(buf) > 0,
	}
	if len(buf) > 0 {
		er := &errorResponse{}
		if err := json.Unmarshal(buf, er); err != nil {
			re.DecodeErr = err
		} else if er.Err != nil {
			re.Message = er.Err.Message
		}
	}
	return nil, re
}

func (c *Client) fail(err error) error {
	c.failures.Add(1)
	return err
}

func (c *Client) logf(format string, args ...any) {
	if c.opt.Logf != nil {
		c.opt.Logf(format, args...)
	}
}
