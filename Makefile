# btftool — see README.md.
GO       ?= go
BIN      := bin/btftool
PKG      := github.com/btftool/btftool
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X $(PKG)/internal/cli.Version=$(VERSION) -X $(PKG)/internal/cli.Commit=$(COMMIT)
EXAMPLE_KERNEL := testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz

.PHONY: all build example test fuzz test-unit test-race deps testdata testdata-bad testdata-libbpf-tools oracle bench lint docs release-snapshot clean

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

# Everything CI runs: lint, unit and end-to-end tests (the libbpf
# differential test needs root, gcc, libbpf-dev, bpftool and skips cleanly
# without them), race-detected tests, and a bounded run of every fuzz target.
test: deps testdata-libbpf-tools lint
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 ./pkg/... ./internal/cli
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

FUZZTIME ?= 30s
# Each fuzz target for FUZZTIME (go test -fuzz runs one target at a time).
fuzz:
	@for t in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go')); do \
		d=$$(dirname $$t); \
		for f in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$t | cut -d' ' -f2); do \
			echo "fuzz $$d $$f ($(FUZZTIME))"; \
			$(GO) test ./$$d -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s >fuzz.log 2>&1 || \
				if grep -qx '    context deadline exceeded' fuzz.log && ! grep -q 'Failing input written' fuzz.log; then \
					echo "  ended on Go's fuzz deadline race (golang/go#75804, fixed in Go 1.27): no failing input"; \
				else tail -n 30 fuzz.log; exit 1; fi; \
		done; \
	done

test-unit:
	$(GO) test ./...

# Rebuild the committed BPF test objects from their C sources (clang-19).
testdata:
	$(MAKE) -C testdata/bpf

# Debian's libbpf-tools objects (~60 real CO-RE programs), extracted for the
# differential test and benchmarks; not committed.
testdata-libbpf-tools:
	@scripts/extract-libbpf-tools.sh testdata/libbpf-tools || echo "libbpf-tools objects unavailable: differential test runs on testdata/bpf only"

# Regenerate the bad-input suite (needs xz, gcc, clang-19).
testdata-bad:
	$(GO) run ./internal/tools/genbad testdata/bad

oracle:
	$(MAKE) -C tools/oracle

bench: build
	scripts/bench-gen.sh

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GORELEASER  := github.com/goreleaser/goreleaser/v2@v2.16.0

# go vet, gofmt and staticcheck (built from the Go module proxy).
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) run $(STATICCHECK) ./...

test-race:
	$(GO) test -race -count=1 ./pkg/... ./internal/cli

# Regenerate docs/cli (markdown) and docs/man from the command tree.
docs:
	$(GO) run ./internal/tools/gendocs docs

# Local release build of every target (goreleaser from the Go module proxy).
release-snapshot:
	GOTOOLCHAIN=local $(GO) run $(GORELEASER) check
	GOTOOLCHAIN=local $(GO) run $(GORELEASER) release --snapshot --clean

clean:
	rm -rf bin dist example.btf
	$(MAKE) -C tools/oracle clean
