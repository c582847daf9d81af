# btftool — see README.md.
GO       ?= go
BIN      := bin/btftool
PKG      := github.com/btftool/btftool
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X $(PKG)/internal/cli.Version=$(VERSION) -X $(PKG)/internal/cli.Commit=$(COMMIT)
EXAMPLE_KERNEL := testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz

.PHONY: all build example test test-unit deps testdata testdata-libbpf-tools oracle bench lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/btftool

# Minimize a Debian 6.1 kernel BTF for the test corpus and show what was kept.
example: build
	$(BIN) gen min_core_btf --verbose $(EXAMPLE_KERNEL) example.btf testdata/bpf/*.bpf.o
	@echo "example.btf: $$(wc -c < example.btf) bytes, cut from $$(xz -dc $(EXAMPLE_KERNEL) | wc -c) bytes"
	@command -v bpftool >/dev/null && bpftool btf dump file example.btf | head -n 20 || true

# Install what the tests need (Debian; only when run as root, only what is missing).
deps:
	@scripts/install-deps.sh

# Everything CI runs: vet, unit tests, the libbpf differential test (needs
# root, gcc, libbpf-dev, bpftool; skipped cleanly without them).
test: deps testdata-libbpf-tools
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -count=1 ./...

test-unit:
	$(GO) test ./...

# Rebuild the committed BPF test objects from their C sources (clang-19).
testdata:
	$(MAKE) -C testdata/bpf

# Debian's libbpf-tools objects (~60 real CO-RE programs), extracted for the
# differential test and benchmarks; not committed.
testdata-libbpf-tools:
	@scripts/extract-libbpf-tools.sh testdata/libbpf-tools || echo "libbpf-tools objects unavailable: differential test runs on testdata/bpf only"

oracle:
	$(MAKE) -C tools/oracle

bench: build
	scripts/bench-gen.sh

lint:
	$(GO) vet ./...
	gofmt -l $$(git ls-files '*.go')

clean:
	rm -rf bin example.btf
	$(MAKE) -C tools/oracle clean
