package controller

import (
	"context"
	"errors"
	"net/url"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Registry names of the controller's repository-scan stores (§13.6, §15).
const (
	RepoScanRegistry    = "_repo_scan"
	FedRepoScanRegistry = "fed._repo_scan"
)

// Summary reads GET /v1/system/summary.
func (c *Client) Summary(ctx context.Context, s *Session) (*translate.SystemSummary, error) {
	var d translate.SystemSummaryData
	if _, err := c.call(ctx, &exchange{ep: EndpointSummary, method: fasthttp.MethodGet,
		path: "/v1/system/summary", timeout: c.timeout}, s, &d); err != nil {
		return nil, err
	}
	if d.Summary == nil {
		return nil, &StatusError{Endpoint: EndpointSummary, Status: 200, Text: "answer without a summary", err: ErrUnavailable}
	}
	return d.Summary, nil
}

// FindImage looks a digest up in registry ("_repo_scan" or
// "fed._repo_scan") with GET /v1/scan/registry/{name}/images?f_digest=eq,D.
// No match, or no such registry, is (nil, nil); of several matches the most
// recently scanned is returned.
func (c *Client) FindImage(ctx context.Context, s *Session, registry, digest string) (*translate.RegistryImageSummary, error) {
	var d translate.RegistryImagesData
	path := "/v1/scan/registry/" + url.PathEscape(registry) + "/images?f_digest=" + url.QueryEscape("eq,"+digest)
	_, err := c.call(ctx, &exchange{ep: EndpointImages, method: fasthttp.MethodGet, path: path,
		timeout: c.timeout}, s, &d)
	if errors.Is(err, ErrNotFound) {
		return nil, nil // fed._repo_scan exists only on managed clusters
	}
	if err != nil {
		return nil, err
	}
	return newestMatch(d.Images, digest), nil
}

// newestMatch picks the most recently scanned image of digest (the filter is
// the controller's; checking it again costs nothing and guards against a
// controller that ignores it).
func newestMatch(images []translate.RegistryImageSummary, digest string) *translate.RegistryImageSummary {
	var best *translate.RegistryImageSummary
	for i := range images {
		im := &images[i]
		if im.Digest != digest {
			continue
		}
		if best == nil || im.ScannedTimeStamp > best.ScannedTimeStamp {
			best = im
		}
	}
	return best
}

// ImageReport reads GET /v1/scan/registry/{name}/image/{id}. An unknown
// image is ErrNotFound.
func (c *Client) ImageReport(ctx context.Context, s *Session, registry, imageID string) (*translate.ScanReport, error) {
	var d translate.ScanReportData
	path := "/v1/scan/registry/" + url.PathEscape(registry) + "/image/" + url.PathEscape(imageID)
	if _, err := c.call(ctx, &exchange{ep: EndpointImage, method: fasthttp.MethodGet, path: path,
		timeout: c.timeout}, s, &d); err != nil {
		return nil, err
	}
	if d.Report == nil {
		return nil, &StatusError{Endpoint: EndpointImage, Status: 200, Text: "answer without a report", err: ErrUnavailable}
	}
	return d.Report, nil
}

// Ping checks that the REST API answers (any well-formed controller reply,
// 401 included, counts) without credentials.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.do(ctx, &exchange{ep: EndpointPing, method: fasthttp.MethodGet, path: "/v1/system/summary",
		timeout: c.timeout})
	if err != nil {
		return err
	}
	defer fasthttp.ReleaseResponse(resp)
	status := resp.StatusCode()
	if status == fasthttp.StatusOK {
		return nil
	}
	if re := c.restError(EndpointPing, resp); re != nil &&
		(status == fasthttp.StatusUnauthorized || status == fasthttp.StatusForbidden) {
		return nil // a controller that says "who are you?" is up
	}
	return c.failure(EndpointPing, resp)
}
