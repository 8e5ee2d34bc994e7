# Make fragment for the local Cozystack-compatible test bed (tests/testbed).
# Included by the top-level Makefile: `include tests/testbed/testbed.mk`.
# See docs/guides/testbed.md.
#
#   make testbed-build                 build .testbed/bin/testbed (only if sources changed)
#   make testbed-up                    start it in the background, wait until ready
#        TESTBED_PROFILE=v0|v1         Cozystack generation (default v1)
#        TESTBED_FLAGS='--lww ...'     extra flags (see `.testbed/bin/testbed -h`)
#        TESTBED_DIR=.testbed          state directory (kubeconfig, token, logs, etcd data)
#   make testbed-down                  stop it and remove its data (keeps the binary)
#   make testbed-test                  the test bed's own Go tests

TESTBED_DIR     ?= .testbed
TESTBED_PROFILE ?= v1
TESTBED_FLAGS   ?=
TESTBED_BIN     ?= $(CURDIR)/.testbed/bin/testbed
TESTBED_GO      ?= $(shell command -v go 2>/dev/null || { test -x /usr/local/go/bin/go && echo /usr/local/go/bin/go; })
TESTBED_SRCS    := $(wildcard $(CURDIR)/tests/testbed/*.go $(CURDIR)/tests/testbed/internal/*/*.go) \
                   $(CURDIR)/tests/testbed/go.mod $(CURDIR)/tests/testbed/go.sum

.PHONY: testbed-build testbed-up testbed-down testbed-test testbed-go

testbed-go:
	@if [ -z "$(TESTBED_GO)" ]; then \
	  echo "error: the test bed needs Go (>= 1.26) and 'go' is not on PATH (nor /usr/local/go/bin/go)." >&2; \
	  echo "       Install it from https://go.dev/dl/ or set TESTBED_GO=/path/to/go." >&2; exit 1; fi

$(TESTBED_BIN): $(TESTBED_SRCS) | testbed-go
	@mkdir -p $(dir $(TESTBED_BIN))
	cd $(CURDIR)/tests/testbed && $(TESTBED_GO) build -trimpath -o $(TESTBED_BIN) .

testbed-build: $(TESTBED_BIN)

testbed-up: testbed-build
	@set -e; dir="$(TESTBED_DIR)"; mkdir -p "$$dir"; \
	if [ -f "$$dir/pid" ] && kill -0 "$$(cat "$$dir/pid")" 2>/dev/null; then \
	  echo "error: a test bed already runs from $$dir (pid $$(cat "$$dir/pid")); run 'make testbed-down' first, or use another TESTBED_DIR." >&2; exit 1; fi; \
	rm -f "$$dir/ready"; \
	nohup "$(TESTBED_BIN)" --dir "$$dir" --profile "$(TESTBED_PROFILE)" $(TESTBED_FLAGS) > "$$dir/testbed.log" 2>&1 < /dev/null & \
	pid=$$!; i=0; \
	while [ ! -f "$$dir/ready" ]; do \
	  if ! kill -0 $$pid 2>/dev/null; then \
	    echo "error: the test bed exited during start-up; last lines of $$dir/testbed.log:" >&2; tail -n 20 "$$dir/testbed.log" >&2; exit 1; fi; \
	  i=$$((i+1)); if [ $$i -gt 600 ]; then \
	    echo "error: the test bed was not ready after 60s; see $$dir/testbed.log" >&2; kill $$pid; exit 1; fi; \
	  sleep 0.1; done; \
	kc="$$(cd "$$dir" && pwd)/kubeconfig"; \
	echo "test bed ready (profile $(TESTBED_PROFILE), pid $$pid): $$(sed -n 's/^url=//p' "$$dir/ready")"; \
	echo "  export KUBECONFIG=$$kc           # kubectl; context 'testbed' (client cert) or 'token', namespace tenant-root"; \
	echo "  export HIKUBE_KUBECONFIG=$$kc    # the provider"; \
	echo "  admin API: $$(cat "$$dir/admin-url")  (GET /requests, POST /faults)"; \
	echo "  logs: $$dir/testbed.log; stop with: make testbed-down"

testbed-down:
	@dir="$(TESTBED_DIR)"; \
	if [ -f "$$dir/pid" ]; then pid="$$(cat "$$dir/pid")"; \
	  if kill -0 "$$pid" 2>/dev/null; then kill -TERM "$$pid"; i=0; \
	    while kill -0 "$$pid" 2>/dev/null; do i=$$((i+1)); \
	      if [ $$i -gt 200 ]; then echo "test bed (pid $$pid) did not stop in 20s, killing it" >&2; kill -KILL "$$pid"; break; fi; \
	      sleep 0.1; done; echo "test bed stopped (pid $$pid)"; \
	  else echo "no running test bed in $$dir"; fi; \
	else echo "no running test bed in $$dir"; fi; \
	if [ -d "$$dir" ]; then find "$$dir" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} +; fi

testbed-test: testbed-build
	cd $(CURDIR)/tests/testbed && TESTBED_BIN=$(TESTBED_BIN) $(TESTBED_GO) test -count=1 ./...
