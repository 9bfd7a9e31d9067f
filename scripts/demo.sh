#!/usr/bin/env bash
# make demo: plan and apply the example dev environment against the
# embedded simulator (wso2sync sim), plan again to show convergence, and
# verify that every credential works (tokens, calls through the simulated
# gateway).
# Needs only the wso2sync binary (make build) and bash.
set -euo pipefail

BIN=${BIN:-bin/wso2sync}
ENV_DIR=${ENV_DIR:-examples/environments/dev}
APIM_ADDR=${APIM_ADDR:-127.0.0.1:19443}
IS_ADDR=${IS_ADDR:-127.0.0.1:19444}
GW_ADDR=${GW_ADDR:-127.0.0.1:18243}

# The credentials the example references ({env: ...}); the simulator is a
# fresh install with admin/admin, and the users' passwords pass IS's policy.
export WSO2SYNC_ADMIN_USERNAME=admin
export WSO2SYNC_ADMIN_PASSWORD=admin
export WSO2SYNC_USER_ALICE_PASSWORD='Alice!pass1'
export WSO2SYNC_USER_BOB_PASSWORD='Bob!pass12'
export WSO2SYNC_RULE_ENGINE_CLIENT_SECRET='rule-engine-secret-1'
export WSO2SYNC_TRUSTSTORE_PASSWORD='changeit'
export WSO2SYNC_APIM_URL="http://$APIM_ADDR"
export WSO2SYNC_IS_URL="http://$IS_ADDR"
export WSO2SYNC_GATEWAY_URL="http://$GW_ADDR"

# The state directory (lock, journal, inventory) of this demo run lives in a
# temporary copy of the examples, so the checkout stays clean.
work=$(mktemp -d)
sim_pid=
cleanup() {
	if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
cp -R "$(dirname "$ENV_DIR")" "$work/environments"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
cd "$work"
env_dir="environments/$(basename "$ENV_DIR")"

for addr in "$APIM_ADDR" "$IS_ADDR" "$GW_ADDR"; do
	if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
		echo "something already listens on $addr; pick free ports with APIM_ADDR=127.0.0.1:PORT IS_ADDR=127.0.0.1:PORT GW_ADDR=127.0.0.1:PORT make demo"
		exit 1
	fi
done
echo "==> starting the simulator (APIM on $APIM_ADDR, IS on $IS_ADDR, gateway on $GW_ADDR)"
# --is-base-url: IS writes the issuer the dev key manager declares
# (https://localhost:9444/oauth2/token), so the gateway accepts its tokens.
"$BIN" sim --apim-listen "$APIM_ADDR" --is-listen "$IS_ADDR" --gw-listen "$GW_ADDR" --is-base-url https://localhost:9444 >sim.log 2>&1 &
sim_pid=$!
for _ in $(seq 1 50); do
	if (exec 3<>"/dev/tcp/${APIM_ADDR%:*}/${APIM_ADDR#*:}") 2>/dev/null && (exec 3<>"/dev/tcp/${IS_ADDR%:*}/${IS_ADDR#*:}") 2>/dev/null; then
		break
	fi
	if ! kill -0 "$sim_pid" 2>/dev/null; then echo "the simulator did not start:"; cat sim.log; exit 1; fi
	sleep 0.1
done

# Generated consumer secrets are sealed (age) to an identity made for this
# run in the temporary folder: without a recipient apply would refuse to
# generate secrets it cannot keep.
echo
echo "==> wso2sync secrets keygen --out demo-key.txt   (an age identity for this run)"
WSO2SYNC_SEAL_RECIPIENTS=$("$BIN" secrets keygen --out "$work/demo-key.txt")
export WSO2SYNC_SEAL_RECIPIENTS
echo "seal recipient: $WSO2SYNC_SEAL_RECIPIENTS"

echo
echo "==> wso2sync plan --env $ENV_DIR"
rc=0
"$BIN" plan --env "$env_dir" --log-level warn || rc=$?
if [ "$rc" -ne 2 ]; then echo "expected plan to exit 2 (changes present), got $rc"; exit 1; fi

# Seal the generated consumer secrets to a throwaway SSH key (when
# ssh-keygen is there), so that verify can open them.
seal=() ident=()
if command -v ssh-keygen >/dev/null 2>&1; then
	ssh-keygen -q -t ed25519 -N "" -C wso2sync-demo -f demo-key
	seal=(--seal-recipient "$(cat demo-key.pub)")
	ident=(--identity demo-key)
fi

echo
echo "==> wso2sync apply --env $ENV_DIR --mode enforce --auto-approve"
"$BIN" apply --env "$env_dir" --mode enforce --auto-approve --log-level warn "${seal[@]}" >apply.out
tail -n 3 apply.out

# The dev example keeps its truststores inside the environment folder.
ts="$env_dir/truststores/wso2am-client-truststore.jks"
if command -v keytool >/dev/null 2>&1; then
	echo
	echo "==> keytool -list: APIM's client truststore ($ENV_DIR/truststores/, in the copy)"
	keytool -list -keystore "$ts" -storepass "$WSO2SYNC_TRUSTSTORE_PASSWORD" -storetype JKS | grep -i 'entry\|fingerprint' || true
fi

echo
echo "==> wso2sync secrets list --env $ENV_DIR   (the public index: no identity needed)"
"$BIN" secrets list --env "$env_dir"

echo
echo "==> wso2sync secrets open forex-client --identity demo-key.txt --field consumerKey"
"$BIN" secrets open forex-client --env "$env_dir" --identity "$work/demo-key.txt" --field consumerKey
secret=$("$BIN" secrets open forex-client --env "$env_dir" --identity "$work/demo-key.txt" --field consumerSecret)
echo "(its consumerSecret opens too: ${#secret} characters, not printed here)"
unset secret

echo
echo "==> wso2sync plan --env $ENV_DIR   (again: nothing left to do)"
"$BIN" plan --env "$env_dir" --log-level warn

echo
echo "==> wso2sync verify --env $ENV_DIR   (every key mints a token; every subscription passes the gateway)"
"$BIN" verify --env "$env_dir" --log-level warn "${ident[@]}"
echo
echo "demo done: the simulator is stopped; run 'wso2sync sim' to keep one running."
