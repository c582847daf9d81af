# btftool — see README.md.
GO       ?= go
BIN      := bin/btftool
PKG      := github.com/btftool/btftool
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X $(PKG)/internal/cli.Version=$(VERSION) -X $(PKG)/internal/cli.Commit=$(COMMIT)
EXAMPLE_KERNEL := testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz

.PHONY: all build install uninstall completions example test test-go fuzz test-unit test-race deps testdata testdata-check testdata-bad testdata-libbpf-tools oracle bench lint docs release-snapshot release-prepare release-check clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/btftool

# The binary is rebuilt by install only when a source changed, so that
# "make build && sudo make install" needs no Go in root's PATH.
$(BIN): $(shell find cmd internal pkg -name '*.go' ! -name '*_test.go') go.mod go.sum
	$(MAKE) build

# Install the binary, the man pages and bash, zsh and fish completions
# under PREFIX (and DESTDIR, for packaging); uninstall removes them.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share

# Shell completion scripts from the binary, into completions/ (also for
# the release archives).
completions: $(BIN)
	@mkdir -p completions
	$(BIN) completion bash >completions/btftool.bash
	$(BIN) completion zsh >completions/_btftool
	$(BIN) completion fish >completions/btftool.fish

install: $(BIN) completions
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/btftool
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0644 docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -D -m 0644 completions/btftool.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/btftool
	install -D -m 0644 completions/_btftool $(DESTDIR)$(DATADIR)/zsh/site-functions/_btftool
	install -D -m 0644 completions/btftool.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/btftool.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/btftool $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/man/*.1))) \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/btftool \
		$(DESTDIR)$(DATADIR)/zsh/site-functions/_btftool \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/btftool.fish

# Minimize a Debian 6.1 kernel BTF for the test corpus and show what was kept.
example: build
	$(BIN) gen min_core_btf --verbose $(EXAMPLE_KERNEL) example.btf testdata/bpf/*.bpf.o
	@echo "example.btf: $$(wc -c < example.btf) bytes, cut from $$(xz -dc $(EXAMPLE_KERNEL) | wc -c) bytes"
	@command -v bpftool >/dev/null && bpftool btf dump file example.btf | head -n 20 || true

# Install what the tests need (Debian; only when run as root, only what is missing).
deps:
	@scripts/install-deps.sh

# Everything CI runs (README, "Tests": how long it takes, faster paths):
# lint; the test objects rebuilt from their sources; every package's tests
# once (test-go); a bounded run of every fuzz target. The libbpf
# differential test needs root, gcc, libbpf-dev and bpftool and skips
# cleanly without them.
test: deps testdata-libbpf-tools lint testdata-check test-go
	$(MAKE) fuzz

# The tests of RACE_PKGS run under the race detector, those of every other
# package without it, both runs at once (either alone leaves a core idle
# while its longest package runs; the longest come first); go vet ran in
# lint. Then the slowest tests of both runs (their events are kept in
# TESTOUT).
RACE_PKGS := ./internal/cli ./pkg/...
UNIT_PKGS = $(filter-out $(shell $(GO) list $(RACE_PKGS)),$(shell $(GO) list ./internal/e2e ./...))
TESTOUT   := bin/test
TESTREPORT := bin/testreport
test-go:
	@mkdir -p $(TESTOUT) && $(GO) build -o $(TESTREPORT) ./internal/tools/testreport
	@echo "go test: $(words $(UNIT_PKGS)) packages, and $(RACE_PKGS) with -race"
	@{ $(GO) test -vet=off -count=1 -json $(UNIT_PKGS) 2>&1; echo $$? >$(TESTOUT)/unit.rc; } | \
		$(TESTREPORT) -slowest 0 -save $(TESTOUT)/unit.json & \
	{ $(GO) test -vet=off -race -count=1 -json $(RACE_PKGS) 2>&1; echo $$? >$(TESTOUT)/race.rc; } | \
		$(TESTREPORT) -slowest 0 -save $(TESTOUT)/race.json; \
	wait; \
	$(TESTREPORT) -slowest 10 $(TESTOUT)/unit.json $(TESTOUT)/race.json; \
	[ "$$(cat $(TESTOUT)/unit.rc)" = 0 ] && [ "$$(cat $(TESTOUT)/race.rc)" = 0 ]

# Each fuzz target in turn (go test -fuzz runs one at a time) for FUZZTIME;
# by default the targets share FUZZBUDGET seconds, at least FUZZMIN each
# (with the 10 targets of today: 12 s each). A real campaign: make fuzz FUZZTIME=10m.
# New interesting inputs are minimized in at most 200 runs, not 2 s each:
# with seeds of several KB (the BPF objects), time-bounded minimization
# took most of a run (FuzzParse: ~2,000 -> ~19,000 execs/s).
FUZZBUDGET ?= 120
FUZZMIN    ?= 10
FUZZTIME   ?=
fuzz:
	@targets=$$(for t in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go')); do \
		for f in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$t | cut -d' ' -f2); do echo "$$(dirname $$t):$$f"; done; \
	done); \
	n=$$(echo $$targets | wc -w); \
	ft=$(FUZZTIME); [ -n "$$ft" ] || ft=$$(( $(FUZZBUDGET) / n > $(FUZZMIN) ? $(FUZZBUDGET) / n : $(FUZZMIN) ))s; \
	for t in $$targets; do \
		d=$${t%%:*}; f=$${t#*:}; \
		echo "fuzz $$d $$f ($$ft)"; \
		$(GO) test -vet=off ./$$d -run '^$$' -fuzz "^$$f\$$" -fuzztime $$ft -fuzzminimizetime 200x >fuzz.log 2>&1 || \
			if grep -qx '    context deadline exceeded' fuzz.log && ! grep -q 'Failing input written' fuzz.log; then \
				echo "  ended on Go's fuzz deadline race (golang/go#75804, fixed in Go 1.27): no failing input"; \
			else tail -n 30 fuzz.log; exit 1; fi; \
		grep '^fuzz: elapsed' fuzz.log | tail -n 1 | sed 's/^/  /'; \
	done

test-unit:
	$(GO) test ./...

# Rebuild the committed BPF test objects from their C sources (clang-19).
testdata:
	$(MAKE) -C testdata/bpf

# Fail when a committed test object is not what its source gives (skipped
# without clang-19; CI installs it).
testdata-check:
	@if command -v clang-19 >/dev/null; then $(MAKE) -s --no-print-directory -C testdata/bpf drift; \
	else echo "testdata-check: clang-19 missing, the test objects are not rebuilt"; fi

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
	$(GO) test -race -count=1 $(RACE_PKGS)

# Regenerate docs/cli (markdown) and docs/man from the command tree.
docs:
	$(GO) run ./internal/tools/gendocs docs

# Local release build of every target (goreleaser from the Go module proxy).
release-snapshot:
	GOTOOLCHAIN=local $(GO) run $(GORELEASER) check
	GOTOOLCHAIN=local $(GO) run $(GORELEASER) release --snapshot --clean

# What CI proves about a release (scripts/check-release.sh): make install
# puts every file in place, goreleaser check accepts the configuration, and
# a linux/amd64 snapshot archive holds LICENSE, README, docs, completions
# and configs. release-prepare builds what it needs (goreleaser into
# bin/goreleaser, ~3.5 CPU minutes on a fresh machine), which CI does at
# the lowest priority while the tests run.
release-prepare: $(BIN)
	GOTOOLCHAIN=local GOBIN=$(CURDIR)/bin $(GO) install $(GORELEASER)

release-check: release-prepare
	scripts/check-release.sh bin/goreleaser

clean:
	rm -rf bin dist completions example.btf
	$(MAKE) -C tools/oracle clean
