# syntax=docker/dockerfile:1
#
# xoneharness as a small static image, for the Kubernetes shard Job in
# deploy/k8s (see deploy/README.md).
#
#   docker build -t registry.example.com/xoneharness:v0.1.0 .
#   docker run --rm registry.example.com/xoneharness:v0.1.0 run   # embedded sandbox
#
# The build context is the repository root; .dockerignore keeps .git, run
# reports and test data out of it.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# Static (no cgo: the final image has no libc), reproducible paths, no symbol
# table or DWARF. TARGETOS/TARGETARCH are set by buildx for --platform builds.
ARG TARGETOS=linux
ARG TARGETARCH
# VERSION is what "xoneharness version" and every report print (the image
# has no .git to read it from): docker build --build-arg VERSION=v1.2.3 .
ARG VERSION=devel
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.buildVersion=${VERSION}" -o /out/xoneharness ./cmd/xoneharness

# distroless/static: CA certificates (for https targets), tzdata and an
# /etc/passwd with the nonroot user (65532), no shell or package manager.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/xoneharness /usr/local/bin/xoneharness
USER 65532:65532
# Relative default report directories (reports/...) land here; the Kubernetes
# Jobs pass --report-dir / --out on their volume instead.
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/xoneharness"]
CMD ["help"]
