#!/usr/bin/env bash
# make e2e: start deploy/compose (APIM 4.5.0 + IS 7.1.0), wait until both
# are healthy, run scripts/e2e.sh against them, tear everything down.
# Needs Docker with Compose v2, curl, openssl, jq and Go. See README.md here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
for c in docker curl openssl jq go; do
	command -v "$c" >/dev/null 2>&1 || { echo "make e2e needs $c" >&2; exit 1; }
done
docker compose version >/dev/null 2>&1 || { echo "make e2e needs Docker Compose v2 (docker compose)" >&2; exit 1; }

APIM_IMAGE=wso2/wso2am:4.5.0 IS_IMAGE=wso2/wso2is:7.1.0
APIM_HOME=/home/wso2carbon/wso2am-4.5.0 IS_HOME=/home/wso2carbon/wso2is-7.1.0
SEC=repository/resources/security
export E2E_STATE=${E2E_STATE:-$(mktemp -d)}
compose() { docker compose -f "$here/compose.yaml" "$@"; }
cleanup() {
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "E2E_KEEP=1: containers left running; E2E_STATE=$E2E_STATE"; return; fi
	compose down -v --remove-orphans || true
	rm -rf "$E2E_STATE"
}
trap cleanup EXIT INT TERM

echo "==> preparing $E2E_STATE from the images"
mkdir -p "$E2E_STATE/wso2am/$SEC" "$E2E_STATE/wso2is/$SEC" "$E2E_STATE/wso2is/repository/conf"
docker pull -q "$APIM_IMAGE" >/dev/null
docker pull -q "$IS_IMAGE" >/dev/null
# The images' own truststores (with the JVM's CAs) are the starting point:
# wso2sync only adds and removes the aliases it declares.
docker run --rm --entrypoint cat "$APIM_IMAGE" "$APIM_HOME/$SEC/client-truststore.jks" >"$E2E_STATE/wso2am/$SEC/client-truststore.jks"
docker run --rm --entrypoint cat "$IS_IMAGE" "$IS_HOME/$SEC/client-truststore.jks" >"$E2E_STATE/wso2is/$SEC/client-truststore.jks"
toml="$E2E_STATE/wso2is/repository/conf/deployment.toml"
docker run --rm --entrypoint cat "$IS_IMAGE" "$IS_HOME/repository/conf/deployment.toml" >"$toml"
if grep -q '^\[oauth\]' "$toml"; then
	sed -i 's/^\[oauth\]$/[oauth]\nauthorize_all_scopes = true/' "$toml"
	sed '/^\[oauth\]$/,/^$/d' "$here/is-key-manager.toml" >>"$toml"
else
	cat "$here/is-key-manager.toml" >>"$toml"
fi

echo "==> docker compose up (waits until both servers are healthy; first start takes minutes)"
compose up -d --wait --wait-timeout "${E2E_WAIT:-900}"

# The certificates the servers present: the CA bundle wso2sync trusts, and
# the certificates each server's truststore must hold for the other.
# Fetched from the containers just started, on this machine: trust on first
# use is acceptable for a throwaway estate, never for a real one (see
# docs/real-servers.md for checking fingerprints out of band).
fetch() { openssl s_client -connect "$1" -servername localhost </dev/null 2>/dev/null | openssl x509; }
fetch localhost:9443 >"$E2E_STATE/wso2am.pem"
fetch localhost:9444 >"$E2E_STATE/wso2is.pem"
cat "$E2E_STATE/wso2am.pem" "$E2E_STATE/wso2is.pem" >"$E2E_STATE/ca.pem"
pin() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
issuer=$(curl -fsS --cacert "$E2E_STATE/wso2is.pem" https://localhost:9444/oauth2/token/.well-known/openid-configuration |
	sed -n 's/.*"issuer" *: *"\([^"]*\)".*/\1/p')
[ -n "$issuer" ] || { echo "could not read IS's issuer from its discovery document" >&2; exit 1; }

# The dev example, adapted to these containers: the servers' real
# certificates (the example's are made up), the issuer IS really writes,
# and truststores that are the mounted files, restarted after a change.
overlay="$E2E_STATE/overlay"
mkdir -p "$overlay"
cat >"$overlay/truststores.yaml" <<YAML
apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: wso2is}
spec: {usage: trust, source: {file: $E2E_STATE/wso2is.pem, sha256: "$(pin "$E2E_STATE/wso2is.pem")"}}
---
apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: wso2am}
spec: {usage: trust, source: {file: $E2E_STATE/wso2am.pem, sha256: "$(pin "$E2E_STATE/wso2am.pem")"}}
---
apiVersion: wso2sync/v1alpha1
kind: KeyManager
metadata: {name: WSO2IS}
spec: {issuer: "$issuer"}
---
apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata: {name: apim-client-truststore}
spec:
  path: $E2E_STATE/wso2am/$SEC/client-truststore.jks
  type: JKS
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries: [{alias: wso2is, certificate: wso2is}]
  restartCommand: [sh, -c, "docker restart wso2am && until curl -skf https://localhost:9443/services/Version >/dev/null; do sleep 5; done"]
---
apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata: {name: is-client-truststore}
spec:
  path: $E2E_STATE/wso2is/$SEC/client-truststore.jks
  type: JKS
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries: [{alias: wso2am, certificate: wso2am}]
  restartCommand: [sh, -c, "docker restart wso2is && until curl -skf https://localhost:9444/api/health-check/v1.0/health >/dev/null; do sleep 5; done"]
YAML

echo "==> publishing the six APIs the example subscribes to"
"$here/publish-apis.sh" https://localhost:9443 "$E2E_STATE/wso2am.pem"

make build
E2E_APIM_URL=https://localhost:9443 E2E_IS_URL=https://localhost:9444 \
	E2E_CA_BUNDLE="$E2E_STATE/ca.pem" E2E_OVERLAY="$overlay" \
	WSO2SYNC_TRUSTSTORE_PASSWORD=${WSO2SYNC_TRUSTSTORE_PASSWORD:-wso2carbon} \
	"$repo/scripts/e2e.sh"
