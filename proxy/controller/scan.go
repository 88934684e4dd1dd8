package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// maxScanRelogins bounds consecutive 401s during one scan: a token that is
// refused right after a successful login will not get better.
const maxScanRelogins = 3

// minPollInterval spaces polls answered 304 without the controller's wait.
const minPollInterval = 50 * time.Millisecond

// ScanRepository runs POST /v1/scan/repository, repeating the identical call
// on 304 until 200 or an error; backs off on 429 and re-logs in on 401 until
// ctx ends. A code-26 failure is a *ScanError.
//
// The identical body with the same token keeps the controller's job (its key
// is body + token); a re-login after 401 restarts the scan, which is the only
// way on. Network errors and bodiless 5xx answers (a controller restarting)
// are retried with back-off too. When ctx ends the error wraps
// context.DeadlineExceeded (or context.Canceled) and the call returns at
// once; the controller finishes the scan and keeps it in _repo_scan.
func (c *Client) ScanRepository(ctx context.Context, s *Session, req *translate.ScanRepoRequest) (*translate.ScanRepoReport, error) {
	body, err := encodeScanRequest(req)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding the scan request: %w", ErrUnavailable, err)
	}
	// A connection of the scan's own: when ctx ends mid-poll it is closed,
	// so the abandoned request ends now, not at its 90 s deadline.
	var conns connSet
	hc := c.newHC(1, 2*time.Second, &conns)
	defer func() {
		conns.closeAll()
		hc.CloseIdleConnections()
	}()
	x := &exchange{ep: EndpointScan, method: fasthttp.MethodPost, path: "/v1/scan/repository",
		body: body, timeout: c.pollTimeout, hc: hc, abandon: conns.closeAll}
	var (
		backoffs int // consecutive back-offs, for the exponent
		relogins int // consecutive 401s
		polls    int
	)
	for {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx, "scan")
		}
		h, tok, err := s.header(ctx)
		if err != nil {
			if errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
				if err := c.sleep(ctx, &backoffs); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		x.auth = h
		polls++
		sent := time.Now()
		resp, err := c.do(ctx, x)
		if err != nil {
			if ctxDone(ctx) {
				return nil, ctxErr(ctx, "scan")
			}
			c.log.Debug("controller scan: no answer, retrying", "error", err, "polls", polls)
			if err := c.sleep(ctx, &backoffs); err != nil {
				return nil, err
			}
			continue
		}
		status := resp.StatusCode()
		switch status {
		case fasthttp.StatusOK:
			var d translate.ScanRepoReportData
			err := c.decodeInto(EndpointScan, resp, &d)
			fasthttp.ReleaseResponse(resp)
			if err != nil {
				return nil, err
			}
			if d.Report == nil {
				return nil, &StatusError{Endpoint: EndpointScan, Status: status, Text: "answer without a report", err: ErrUnavailable}
			}
			return d.Report, nil
		case fasthttp.StatusNotModified:
			fasthttp.ReleaseResponse(resp)
			backoffs, relogins = 0, 0
			// The controller holds each poll up to its long-poll timeout; a
			// 304 at once (something in between, a misconfiguration) must not
			// turn this loop into a busy one.
			if d := time.Since(sent); d < minPollInterval {
				if err := sleepCtx(ctx, minPollInterval-d); err != nil {
					return nil, err
				}
			}
			continue
		case fasthttp.StatusUnauthorized:
			fasthttp.ReleaseResponse(resp)
			relogins++
			if !s.canRelogin() || relogins > maxScanRelogins {
				return nil, statusErr(ErrAuth, EndpointScan, status, &translate.RESTError{Code: translate.CodeAuthFailed})
			}
			c.log.Debug("controller scan: token refused, logging in again (the scan restarts)")
			if _, err := s.relogin(ctx, tok); err != nil {
				if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
					return nil, err
				}
				relogins-- // the controller did not answer: not its verdict
				if err := c.sleep(ctx, &backoffs); err != nil {
					return nil, err
				}
			}
			continue
		case fasthttp.StatusForbidden:
			err := c.failure(EndpointScan, resp)
			fasthttp.ReleaseResponse(resp)
			return nil, err
		case fasthttp.StatusTooManyRequests:
			fasthttp.ReleaseResponse(resp)
			c.log.Debug("controller scan: queue full, backing off", "polls", polls)
			if err := c.sleep(ctx, &backoffs); err != nil {
				return nil, err
			}
			continue
		}
		re := c.restError(EndpointScan, resp)
		fasthttp.ReleaseResponse(resp)
		if re == nil {
			if status >= 500 {
				// Not the controller's own error shape: something between
				// us and it, or it is restarting. Try again.
				if err := c.sleep(ctx, &backoffs); err != nil {
					return nil, err
				}
				continue
			}
			return nil, statusErr(ErrUnavailable, EndpointScan, status, nil)
		}
		return nil, scanError(re, req)
	}
}

// scanError maps a controller error body of the scan call. Only code 26
// carries a message made for people; every other code gets its fixed text
// because, e.g., code 54's message prints the job key, password included.
func scanError(re *translate.RESTError, req *translate.ScanRepoRequest) *ScanError {
	if re.Code == translate.CodeFailScanRepository && re.Message != "" &&
		(req == nil || req.Password == "" || !strings.Contains(re.Message, req.Password)) {
		return &ScanError{Code: re.Code, Message: re.Message}
	}
	return &ScanError{Code: re.Code, Message: translate.ControllerErrorText(re.Code)}
}

// sleep waits the next back-off step (exponential from backoffMin to
// backoffMax, jittered between half and the full step) or until ctx ends.
func (c *Client) sleep(ctx context.Context, n *int) error {
	d := c.backoffMin
	for i := 0; i < *n && d < c.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.backoffMax)
	*n++
	return sleepCtx(ctx, d/2+rand.N(d/2+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx, "scan")
	}
}

// encodeScanRequest encodes the body of POST /v1/scan/repository once; every
// poll resends these bytes, so the controller's job key stays the same.
// (goccy/go-json v0.10.5 panics on this struct passed by value: pass a pointer.)
func encodeScanRequest(req *translate.ScanRepoRequest) ([]byte, error) {
	return json.Marshal(&translate.ScanRepoReqData{Request: req})
}
