# syntax=docker/dockerfile:1
#
# harbor-scanner-neuvector: Harbor pluggable-scanner adapter for NeuVector,
# run as a sidecar of the NeuVector controller pod (see manifests/README.md).
#
# Multi-arch build (the Makefile's `make image` does this):
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse --short HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t IMAGE:TAG --push .

ARG GO_VERSION=1.26

# The builder runs on the build host's platform and cross-compiles, so an
# arm64 image never runs the Go toolchain under emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# -buildvcs=false: .git is not in the context (.dockerignore); COMMIT carries it.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/usr/local/bin/adapter ./cmd/harbor-scanner-neuvector
# The NeuVector enforcer only recognises NeuVector's registry adapter when its
# entry command is /usr/local/bin/adapter, and its self-protection allows only
# that name among adapters (manifests/README.md, "NeuVector enforcer"). The
# descriptive name is a hard link to the same file, not a symlink: a process
# started through a symlink runs as the link's target.
# 0555, root-owned: readable and executable by any UID and group 0 (OpenShift).
RUN chmod 0555 /out/usr/local/bin/adapter && \
    ln /out/usr/local/bin/adapter /out/usr/local/bin/harbor-scanner-neuvector

# distroless/static: CA certificates, tzdata, /tmp, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
LABEL org.opencontainers.image.title="harbor-scanner-neuvector" \
      org.opencontainers.image.description="Harbor pluggable scanner adapter for NeuVector, run as a sidecar of the NeuVector controller" \
      org.opencontainers.image.source="https://github.com/neuvector/harbor-scanner-neuvector" \
      org.opencontainers.image.url="https://github.com/neuvector/harbor-scanner-neuvector" \
      org.opencontainers.image.documentation="https://github.com/neuvector/harbor-scanner-neuvector/blob/main/manifests/README.md" \
      org.opencontainers.image.vendor="NeuVector" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot" \
      neuvector.image="neuvector/harbor-scanner-neuvector" \
      neuvector.role="registry-adapter"
# One COPY of the directory: both names arrive from a single layer copy.
COPY --from=build /out/ /
# Numeric, so that the kubelet can check runAsNonRoot without /etc/passwd; any
# other UID works too (the adapter writes nothing, reads only mounted certs).
USER 65532:65532
EXPOSE 8090 9443 8091
ENTRYPOINT ["/usr/local/bin/adapter"]
CMD ["serve"]
