module github.com/neuvector/harbor-scanner-neuvector

go 1.26.8

require github.com/VictoriaMetrics/metrics v1.40.2

require (
	github.com/CycloneDX/cyclonedx-go v0.12.0 // indirect
	github.com/blang/semver/v4 v4.0.0 // indirect
	github.com/fasthttp/router v1.5.4 // indirect
	github.com/getkin/kin-openapi v0.133.0 // indirect
	github.com/goccy/go-json v0.10.5 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/moby/buildkit v0.34.2 // indirect
	github.com/molecule-man/go-brrr v1.3.1 // indirect
	github.com/package-url/packageurl-go v0.1.7 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.2 // indirect
	github.com/savsgio/gotils v0.0.0-20240704082632-aef3928b8a38 // indirect
	github.com/spdx/tools-golang v0.5.7 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.79.0 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	k8s.io/api v0.35.0 // indirect
	k8s.io/apimachinery v0.35.0 // indirect
	sigs.k8s.io/kustomize/api v0.21.2 // indirect
	sigs.k8s.io/kustomize/kyaml v0.21.2 // indirect
)
