# f2b build and checks. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/f2b
PKGS    := ./...

.PHONY: all build test vet fmt-check bench demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/f2b

# Unit tests, golden files, replay cases, examples and fuzz seed corpora,
# with the race detector. As root, the real parts the tests drive (nftables,
# iptables, ipset, ufw, systemd-journal-remote) are installed first, one
# apt-get at a time, rather than by test packages racing for dpkg's lock.
test: fmt-check vet test-deps
	$(GO) test -race -count=1 $(PKGS)

.PHONY: test-deps
test-deps:
	@if [ "$$(id -u)" = 0 ]; then scripts/firewall-tools.sh >/dev/null && scripts/journal-tools.sh >/dev/null; fi

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The benchmark suite (bench/): builds f2b, generates seeded logs and
# prints one table of figures next to their goals (fail2ban-regex from
# Debian's package, fetched on first use, for comparison), and writes the
# same figures to $(BENCH_JSON) to compare commits. Add profiles with
# BENCH_FLAGS=-cpuprofile=DIR, a small run with BENCH_FLAGS=-quick.
BENCH_JSON  ?= bench/results.json
BENCH_FLAGS ?=
bench:
	$(GO) run ./bench -json $(BENCH_JSON) $(BENCH_FLAGS)

# fail2ban's sample logs (Debian's package, fetched into a cache outside
# git) through the stock filters: prints every line that does not pass and
# "conformance: N/M failJSON lines pass".
.PHONY: conformance
conformance:
	@root=$$(scripts/fetch-fail2ban.sh) && $(GO) run ./conformance/cmd/f2b-conformance -root "$$root"

# Build, then replay the shipped sample log through examples/sshd.hcl.
demo: build
	$(BIN) validate examples/sshd.hcl
	$(BIN) replay examples/sshd.log --config examples/sshd.hcl --dry-run --now 2026-03-01T00:00:00Z

clean:
	rm -rf bin
