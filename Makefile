# systemd-docker — build, test, benchmark, demo.
SHELL     := /bin/bash
GO        ?= go
BIN       ?= bin/systemd-docker
PREFIX    ?= /usr/local
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test test-unit test-integration check bench demo install uninstall image fuzz clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/systemd-docker

# Unit tests: no daemon, no root needed. staticcheck (pinned; fetched by the go command) also
# reads the integration code.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
test-unit:
	$(GO) vet ./...
	$(GO) vet -tags integration ./integration/...
	$(STATICCHECK) -tags integration ./...
	$(GO) test -race -count=1 ./...

# Real dockerd on the host plus the systemd-as-PID-1 boxes (root).
test-integration: build
	$(GO) test -tags integration -count=1 -timeout 45m -v ./integration/... 2>&1 | tee integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' ; test $${PIPESTATUS[0]} -eq 0

# Each fuzz target briefly (FUZZTIME each); seed corpora live in testdata/fuzz.
# A count budget (Nx), not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" failure when a duration budget expires mid-exec
# (golang/go#75804, fixed in Go 1.27); a count budget has no deadline to race.
FUZZTIME ?= 100000x
# The generator's fuzz target writes three files per run: fewer runs.
FUZZGENTIME ?= 20000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./supervisor/runargs/
	$(GO) test -run '^$$' -fuzz '^FuzzParseProcCgroup$$' -fuzztime $(FUZZTIME) ./supervisor/cgroups/
	$(GO) test -run '^$$' -fuzz '^FuzzParseMountinfo$$' -fuzztime $(FUZZTIME) ./supervisor/cgroups/
	$(GO) test -run '^$$' -fuzz '^FuzzParseMessage$$' -fuzztime $(FUZZTIME) ./supervisor/sdnotify/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./unitgen/unitfile/
	$(GO) test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime $(FUZZGENTIME) ./unitgen/

test: test-unit fuzz test-integration

# Everything on a fresh machine (root): install and start what the tests need, then run every test.
check:
	bash .ci/setup
	$(MAKE) test

# The program's main job, under a real systemd: a throwaway systemd-nspawn box
# with dockerd inside, a demo unit started, inspected and stopped (root).
demo:
	bash .ci/setup
	$(GO) run -tags integration ./integration/cmd/demo

# make install [PREFIX=/usr/local] [DESTDIR=] [GENERATORDIR=]: the binary to $(PREFIX)/bin, the
# man pages to $(PREFIX)/share/man/man1 and man5, and the generator, a relative symlink
# GENERATORDIR/systemd-docker-generator → the binary (make install PREFIX=/opt →
# /opt/bin/systemd-docker). systemd looks for generators in /usr/local/lib, /usr/lib and /etc
# (.../systemd/system-generators), not in /opt/lib: with PREFIX=/opt give
# GENERATORDIR=/etc/systemd/system-generators.
GENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/systemd-docker
	install -D -m 0644 docs/systemd-docker.1 $(DESTDIR)$(PREFIX)/share/man/man1/systemd-docker.1
	install -D -m 0644 docs/systemd-docker.container.5 $(DESTDIR)$(PREFIX)/share/man/man5/systemd-docker.container.5
	install -d -m 0755 $(DESTDIR)$(GENERATORDIR)
	ln -sfr $(DESTDIR)$(PREFIX)/bin/systemd-docker $(DESTDIR)$(GENERATORDIR)/systemd-docker-generator

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/systemd-docker $(DESTDIR)$(PREFIX)/share/man/man1/systemd-docker.1 \
		$(DESTDIR)$(PREFIX)/share/man/man5/systemd-docker.container.5 $(DESTDIR)$(GENERATORDIR)/systemd-docker-generator

# The installer image (FROM scratch; see Dockerfile):
#   docker run --rm -v /opt/bin:/opt/bin systemd-docker:$(VERSION)
image: build
	docker build -t systemd-docker:$(VERSION) .

# Benchmark (root): systemd-docker vs the plain docker CLI in one systemd box;
# writes bench/results.md. E.g. make bench BENCHFLAGS='-quick' or BENCHFLAGS='-only logs -rounds 3'.
BENCHFLAGS ?=
bench:
	bash .ci/setup
	$(GO) run -tags integration ./integration/cmd/bench $(BENCHFLAGS)

clean:
	rm -rf bin integration.log
