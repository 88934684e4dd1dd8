# harbor-scanner-neuvector
SHELL := /bin/bash
GO ?= go
export GOFLAGS ?= -mod=mod
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
FUZZTIME ?= 3s
IMAGE ?= docker.io/neuvector/harbor-scanner-neuvector:$(VERSION)
PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: all build demo test lint unit fuzz-short fuzz bench soak image image-push clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/harbor-scanner-neuvector ./cmd/harbor-scanner-neuvector
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/controller-sim ./cmd/controller-sim

# The main job: the adapter against the built-in controller simulator,
# scanning sample images the way Harbor does, printing the result.
demo: build
	./scripts/demo.sh

# Every test: vet, gofmt, unit/handler/contract/end-to-end tests with the race
# detector, then each fuzz target for $(FUZZTIME).
test: lint unit fuzz-short

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit: build
	$(GO) test -race -count=1 -timeout 9m ./...

fuzz-short:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Longer fuzzing, not part of make test.
fuzz:
	FUZZTIME=60s ./scripts/fuzz.sh

# Benchmarks with figures (see BENCHMARKS.md), including the loopback load run.
bench: build
	./scripts/bench.sh

soak: build
	SOAK=1 ./scripts/bench.sh soak

# Need a Docker engine with buildx (not available on the development machines,
# so the image has never been built here). image: the local architecture,
# loaded into Docker; image-push: every platform, pushed to $(IMAGE).
image:
	docker buildx build --platform linux/$(shell $(GO) env GOARCH) --load \
	  --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) \
	  -t $(IMAGE) .

image-push:
	docker buildx build --platform $(PLATFORMS) --push \
	  --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) \
	  -t $(IMAGE) .

clean:
	rm -rf bin
