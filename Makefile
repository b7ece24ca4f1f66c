# XKS Operator — developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DOTNET ?= dotnet
BACKEND ?= software
ifeq ($(BACKEND),pkcs11)
CONFIG ?= config/proxy/standalone-softhsm.yaml
else
CONFIG ?= config/proxy/standalone.yaml
endif
SOFTHSM_DIR := .data/softhsm
APT_PACKAGES := curl openssl python3-botocore wrk uuid-runtime lua5.1 lua-cjson softhsm2 opensc prometheus
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CLUSTER := ./tests/cluster/cluster.sh

.PHONY: help deps build test test-unit test-pods cluster-up cluster-down manifests run demo demo-cluster demo-standalone bench bench-operator publish images push chart clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## install what the tests and benchmarks need (Debian packages; NuGet restores itself)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  case " $$missing " in *" prometheus "*) \
	    echo "deps: prometheus is here for promtool; stopping the server its package starts (it would hold :9090)"; \
	    for s in prometheus prometheus-node-exporter; do \
	      if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now $$s >/dev/null 2>&1; else $(SUDO) service $$s stop >/dev/null 2>&1; fi; \
	    done; true;; \
	  esac; \
	else echo "deps: all present ($(APT_PACKAGES))"; fi

build: ## build the solution (warnings are errors)
	$(DOTNET) build XksOperator.sln -nologo -v:q

test: deps ## install deps and the local control plane, build, run every test (unit, proxy, real clients, cluster, helm), then the pod tier; stops what it started
	$(DOTNET) build XksOperator.sln -nologo -v:q
	@# the fast cluster tier acts as the kubelet itself: a cluster with real nodes (a demo-cluster left running) goes first
	@if [ -d .data/cluster/nodes ]; then ./scripts/demo-cluster.sh stop; fi
	@started=""; if ! $(CLUSTER) status; then $(CLUSTER) up >/dev/null && started=1; fi; \
	trap '[ -z "$$started" ] || $(CLUSTER) down' EXIT; \
	rm -rf artifacts/test-results; \
	$(DOTNET) test XksOperator.sln --no-build -nologo --filter "Category!=Benchmark&Category!=Drill" --logger "console;verbosity=normal" \
	  --logger "trx;LogFilePrefix=results" --results-directory artifacts/test-results \
	  || { echo "dotnet test failed; what failed (from artifacts/test-results):"; python3 scripts/test-failures.py artifacts/test-results; exit 1; }; \
	echo "the disaster drill: backup, the control plane wiped and rebuilt, restore (alone: it takes the control plane down)"; \
	$(DOTNET) test tests/Xks.Operator.Tests --no-build -nologo --filter "Category=Drill" --logger "console;verbosity=normal" \
	  --logger "trx;LogFilePrefix=drill" --results-directory artifacts/test-results \
	  || { echo "the disaster drill failed; what failed (from artifacts/test-results):"; python3 scripts/test-failures.py artifacts/test-results; exit 1; }
	./tests/pods/run.sh

test-pods: deps ## the pod tier alone: two real nodes, images built here, helm install, the seed scenario through the LB, faults under load (root)
	./tests/pods/run.sh

test-unit: ## the unit tests: no control plane, no helm, no image builds (operator and proxy; the operator's take < 30 s)
	$(DOTNET) test XksOperator.sln -nologo --filter "Category!=Cluster&Category!=Integration&Category!=Benchmark&FullyQualifiedName!~ClusterTests"

cluster-up: ## start the local control plane (etcd, kube-apiserver, kube-controller-manager 1.20.2; built and cached on first use) and print the kubeconfig path
	@$(CLUSTER) up

cluster-down: ## stop the local control plane
	@$(CLUSTER) down

manifests: ## regenerate config/crd from the C# models and copy the CRDs into the Helm chart
	$(DOTNET) run --project operator -- crds --output $(abspath config/crd/bases)
	./scripts/sync-chart-crds.sh

run: ## start the standalone proxy on http://127.0.0.1:8080 (config/proxy/standalone.yaml); BACKEND=pkcs11: keys in a SoftHSM2 token (standalone-softhsm.yaml, token under .data/softhsm)
ifeq ($(BACKEND),pkcs11)
	XKS_SOFTHSM_DIR=$(abspath $(SOFTHSM_DIR)) ./scripts/softhsm-token.sh $(abspath $(CONFIG))
else ifneq ($(BACKEND),software)
	$(error BACKEND must be software or pkcs11, not '$(BACKEND)')
endif
	@echo "xks-proxy: serving $(CONFIG) ($(BACKEND) backend); metrics on http://127.0.0.1:9090/metrics. From another terminal:"
	@echo "  curl -s --aws-sigv4 'aws:amz:us-east-1:kms-xks-proxy' --user 'BETWEEN2TENAND3TENCHARACTERS:PleaseReplaceThisWithSomeSecretOfLength43To64' \\"
	@echo "    -H 'Content-Type: application/json' -d '{\"requestMetadata\":{\"kmsRequestId\":\"1\",\"kmsOperation\":\"KmsHealthCheck\"}}' \\"
	@echo "    http://127.0.0.1:8080/example/uri/path/prefix/kms/xks/v1/health"
	SOFTHSM2_CONF=$(abspath $(SOFTHSM_DIR))/softhsm2.conf $(DOTNET) run --project proxy -c Release -- --config $(abspath $(CONFIG))

demo: deps ## the seed scenario: control plane, operator, proxy, KMS emulator; samples applied, an image encrypted, key off (unreadable), key on (opens)
	./scripts/demo.sh

demo-cluster: deps ## the seed scenario through real pods: two nodes, images built here, helm install, HAProxy in front of both nodes (root; stop: scripts/demo-cluster.sh stop)
	./scripts/demo-cluster.sh

demo-standalone: deps ## the HYOK switch on a standalone proxy with curl: encrypt, key off (decrypt refused), key on (decrypt works)
	./scripts/demo-standalone.sh

bench: deps ## wrk against Encrypt/Decrypt: proxy vs bare Kestrel (HTTP, TLS), software vs PKCS#11 on SoftHSM2 (pool sizes 1, 4, 16); req/s, p50, p99, ratios; then bench-operator
	$(DOTNET) run --project tests/Xks.Proxy.Benchmarks -c Release
	$(MAKE) --no-print-directory bench-operator

bench-operator: deps ## the operator at scale: N CloudKeys (XKS_BENCH_KEYS, default 100,1000) applied at once against the KMS emulator; all Ready vs the AWS rate, AWS calls at rest, reconciles/s, RSS, CPU (artifacts/bench/operator.md)
	$(DOTNET) build tests/Xks.Operator.Tests -c Debug -nologo -v:q
	@# the operator as the image ships it (Release, self-contained, ReadyToRun): its memory is what users get
	$(DOTNET) publish operator -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true -o artifacts/bench/operator-published -nologo -v:q
	@# like `make test`: the test acts as the kubelet, so a cluster with real nodes (a demo-cluster left running) goes first
	@if [ -d .data/cluster/nodes ]; then ./scripts/demo-cluster.sh stop; fi
	@started=""; if ! $(CLUSTER) status; then $(CLUSTER) up >/dev/null && started=1; fi; \
	trap '[ -z "$$started" ] || $(CLUSTER) down' EXIT; \
	XKS_OPERATOR_PUBLISHED=$(abspath artifacts/bench/operator-published) $(DOTNET) test tests/Xks.Operator.Tests -c Debug --no-build -nologo --filter "Category=Benchmark" --logger "console;verbosity=detailed"

publish: ## publish the proxy and the operator to artifacts/proxy and artifacts/operator (what the Dockerfiles do)
	$(DOTNET) publish proxy -c Release -o artifacts/proxy -nologo -v:q
	$(DOTNET) publish operator -c Release -o artifacts/operator -nologo -v:q

images: ## build the operator and proxy images with buildah (no Docker): artifacts/images/xks-{operator,proxy}.tar, named REGISTRY/xks-NAME:VERSION (REGISTRY defaults to localhost)
	DOTNET=$(DOTNET) REGISTRY=$(REGISTRY) ./scripts/images.sh build

push: ## build if needed, then push both images to docker://REGISTRY/xks-NAME:VERSION (make push REGISTRY=ghcr.io/acme, after buildah login)
	DOTNET=$(DOTNET) REGISTRY=$(REGISTRY) ./scripts/images.sh push

chart: ## package the Helm chart into artifacts/ with the version of the VERSION file
	@$(CLUSTER) tools >/dev/null
	@eval "$$($(CLUSTER) env)"; mkdir -p artifacts; \
	helm lint charts/xks-operator >/dev/null && \
	helm package charts/xks-operator --version "$$(cat VERSION)" --app-version "$$(cat VERSION)" -d artifacts

clean: ## remove build outputs and local data
	rm -rf artifacts .data */bin */obj tests/*/bin tests/*/obj
