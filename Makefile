# The one entry point. `make up` runs the whole system here; `make test` runs the full suite.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: setup up test lint proto bench lock clean images

setup:
	scripts/bootstrap.sh

up: setup
	$(VENV)/python -m qlcb_devstack up $(if $(TLS),--tls)

test:
	scripts/bootstrap.sh --postgres --promtool --prometheus --helm --docker --browser
	$(MAKE) lint
	$(VENV)/pytest

# Every container image (the five services, Keycloak, PostgreSQL, NATS, Prometheus), built here from a
# Debian base made by mmdebstrap and the host's wheels, without an image registry; starts dockerd
# for the build when none runs, and stops it after. docker-compose.yml runs them.
images: setup
	scripts/bootstrap.sh --docker
	$(VENV)/python -m qlcb_devstack images

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy -p qlcb_common -p qlcb_devstack -p qlcb_identity -p qlcb_personnel -p qlcb_reports -p qlcb_backup -p qlcb_gateway
	$(VENV)/mypy $(wildcard tests bench/*.py libs/*/tests tools/*/tests services/*/tests)
	cd proto && ../$(VENV)/buf lint

proto:
	scripts/gen-proto.sh

bench: setup
	scripts/bootstrap.sh --postgres
	$(VENV)/python -m bench

lock:
	.state/bootstrap/bin/uv lock
	.state/bootstrap/bin/uv export --frozen --no-emit-workspace --all-packages --all-groups \
	  --format requirements-txt -o requirements.lock
	.state/bootstrap/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --no-header \
	  deploy/helm/checkov/requirements.in -o deploy/helm/checkov/requirements.lock

clean:
	rm -rf .venv .state
