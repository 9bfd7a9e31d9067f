#!/usr/bin/env bash
# The end-to-end steps on the example estate, against whatever servers
# E2E_APIM_URL and E2E_IS_URL name: the real WSO2 containers of
# deploy/compose (make e2e) or the simulator (cmd/wso2sync/e2e_test.go runs
# this very script in make test), so the kit has only the servers to swap.
#
#   1. the e2e-tagged Go tests (read the live estate)        E2E_GO_TESTS=1
#   2. wso2sync plan          exit 2 (changes) or 0
#   3. wso2sync apply         enforce, auto-approved
#   4. wso2sync plan          exit 0, "No changes."
#   5. wso2sync export        the live estate as manifests, which validate
#
# Inputs (environment):
#   E2E_APIM_URL, E2E_IS_URL   the servers (required)
#   E2E_CA_BUNDLE              PEM file of the servers' certificates (else the example's)
#   E2E_OVERLAY                folder whose *.yaml replace or add to the dev example's files
#   E2E_GO_TESTS               1 (default) runs step 1
#   BIN                        wso2sync binary (default bin/wso2sync)
#   WSO2SYNC_ADMIN_USERNAME/PASSWORD and the example's other secret
#   variables default to the values of a fresh install (admin/admin).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${E2E_APIM_URL:?set E2E_APIM_URL to the APIM base URL (https://localhost:9443)}"
: "${E2E_IS_URL:?set E2E_IS_URL to the IS base URL (https://localhost:9444)}"
BIN=${BIN:-bin/wso2sync}
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
repo=$(pwd)

export WSO2SYNC_ADMIN_USERNAME=${WSO2SYNC_ADMIN_USERNAME:-admin}
export WSO2SYNC_ADMIN_PASSWORD=${WSO2SYNC_ADMIN_PASSWORD:-admin}
export WSO2SYNC_USER_ALICE_PASSWORD=${WSO2SYNC_USER_ALICE_PASSWORD:-'Alice!pass1'}
export WSO2SYNC_USER_BOB_PASSWORD=${WSO2SYNC_USER_BOB_PASSWORD:-'Bob!pass12'}
export WSO2SYNC_RULE_ENGINE_CLIENT_SECRET=${WSO2SYNC_RULE_ENGINE_CLIENT_SECRET:-rule-engine-secret-1}
export WSO2SYNC_TRUSTSTORE_PASSWORD=${WSO2SYNC_TRUSTSTORE_PASSWORD:-wso2carbon}
export WSO2SYNC_APIM_URL=$E2E_APIM_URL WSO2SYNC_IS_URL=$E2E_IS_URL

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R examples/environments "$work/environments"
env_dir="$work/environments/dev"
if [ -n "${E2E_CA_BUNDLE:-}" ]; then cp "$E2E_CA_BUNDLE" "$env_dir/wso2-servers.pem"; fi
if [ -n "${E2E_OVERLAY:-}" ]; then cp "$E2E_OVERLAY"/*.yaml "$env_dir/"; fi
step() { echo; echo "==> $*"; }

if [ "${E2E_GO_TESTS:-1}" = 1 ]; then
	step "go test -tags e2e -run E2E ./internal/providers/"
	WSO2SYNC_E2E_APIM_URL=$E2E_APIM_URL WSO2SYNC_E2E_IS_URL=$E2E_IS_URL \
		WSO2SYNC_E2E_CA_BUNDLE="$env_dir/wso2-servers.pem" \
		go test -count=1 -tags e2e -run E2E ./internal/providers/
fi

cd "$work"
# Generated consumer secrets are sealed to an identity made for this run
# (apply refuses to generate secrets it cannot keep).
if [ -z "${WSO2SYNC_SEAL_RECIPIENTS:-}" ]; then
	WSO2SYNC_SEAL_RECIPIENTS=$("$BIN" secrets keygen --out "$work/e2e-key.txt")
	export WSO2SYNC_SEAL_RECIPIENTS
fi
step "wso2sync plan --env environments/dev"
rc=0
"$BIN" plan --env environments/dev --log-level warn >plan1.out || rc=$?
tail -n 1 plan1.out
if [ "$rc" -ne 2 ] && [ "$rc" -ne 0 ]; then cat plan1.out; echo "e2e: plan failed (exit $rc)"; exit 1; fi

step "wso2sync apply --env environments/dev --mode enforce --auto-approve"
"$BIN" apply --env environments/dev --mode enforce --auto-approve --log-level warn >apply.out || { cat apply.out; echo "e2e: apply failed"; exit 1; }
grep '^Apply complete' apply.out

step "wso2sync plan --env environments/dev   (converged: exit 0)"
rc=0
"$BIN" plan --env environments/dev --log-level warn >plan2.out || rc=$?
cat plan2.out
if [ "$rc" -ne 0 ] || ! grep -q '^No changes\.' plan2.out; then echo "e2e: not converged after apply (exit $rc)"; exit 1; fi

step "wso2sync export --env environments/dev --out export"
"$BIN" export --env environments/dev --out export --log-level warn
ls export
# The export is an environment of its own (with a wso2sync.yaml naming
# the servers): it must validate as it is.
"$BIN" validate --env export
echo
echo "e2e: passed against $E2E_APIM_URL and $E2E_IS_URL"
cd "$repo"
