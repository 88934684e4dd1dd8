package proxy

import (
	"bytes"
	"encoding/json"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// metadataDoc is the prebuilt GET /metadata body; replaced whole when the
// CVE DB changes so the handler only copies bytes.
type metadataDoc struct {
	body []byte
}

// scannerTypeOSPackages is the scanner-type property value of the spec's
// example: NeuVector scans OS packages and application modules.
const scannerTypeOSPackages = "os-package-vulnerability"

// buildMetadata returns the metadata document for the current state.
func (a *API) buildMetadata(db *cvedbState) []byte {
	consumes := []string{translate.MimeOCIManifest, translate.MimeDockerManifestV2}
	md := translate.Metadata{
		Scanner: a.cfg.Scanner,
		Capabilities: []translate.Capability{{
			Type:              translate.CapabilityVulnerability,
			ConsumesMimeTypes: consumes,
			// Exactly one type: Harbor polls every produced type of a
			// capability (harbor-contract.md §8.10).
			ProducesMimeTypes: []string{translate.MimeVuln11},
		}},
		Properties: map[string]string{
			translate.PropScannerType:      scannerTypeOSPackages,
			translate.PropRegistryAuthType: "Basic",
		},
	}
	if a.cfg.SBOM {
		md.Capabilities = append(md.Capabilities, translate.Capability{
			Type:              translate.CapabilitySBOM,
			ConsumesMimeTypes: consumes,
			ProducesMimeTypes: []string{translate.MimeSBOMReport10},
			AdditionalAttributes: map[string]any{
				"sbom_media_types": []string{translate.MediaSPDX, translate.MediaCycloneDX},
			},
		})
	}
	// Unknown values are omitted, never sent empty: Harbor's validation
	// and portal treat an empty property as broken.
	if db.createTime != "" {
		md.Properties[translate.PropDBUpdatedAt] = db.createTime
	}
	if db.version != "" {
		md.Properties[translate.PropNeuVectorCVEDBVer] = db.version
	}
	b, err := json.Marshal(md)
	if err != nil {
		panic("proxy: metadata does not encode: " + err.Error()) // static types: cannot happen
	}
	return b
}

// rebuildMetadata refreshes the prebuilt document from the CVE DB state.
func (a *API) rebuildMetadata() {
	a.metadata.Store(&metadataDoc{body: a.buildMetadata(a.cvedb.Load())})
}

// handleMetadata answers GET /metadata from memory: it never waits on the
// controller (Harbor gives it 5 s and marks a slow scanner unhealthy). The
// Accept header is not enforced: Harbor always sends version=1.0 and does
// not check the answer's Content-Type, and a 406 would only mark the
// scanner unhealthy.
func (a *API) handleMetadata(ctx *fasthttp.RequestCtx) {
	if err := a.auth.check(ctx); err != nil {
		a.writeAuthError(ctx, err)
		return
	}
	if bytes.Equal(ctx.Request.Header.Peek(fasthttp.HeaderAccept), []byte(translate.MimeMetadata11)) {
		ctx.SetContentType(translate.MimeMetadata11)
	} else {
		ctx.SetContentType(translate.MimeMetadata10)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.SetBodyRaw(a.metadata.Load().body)
}
