#!/usr/bin/env bash
# Publishes the six APIs the example's subscriptions name (ForexAPI …
# WalletAPI, 1.0.0, context /<service>) on a fresh APIM, as the backend
# teams would: wso2sync does not manage APIs. Used by run-e2e.sh.
#   publish-apis.sh https://localhost:9443 CA_BUNDLE   (admin/admin unless WSO2SYNC_ADMIN_*)
set -euo pipefail
apim=$1 ca=$2
user=${WSO2SYNC_ADMIN_USERNAME:-admin} pass=${WSO2SYNC_ADMIN_PASSWORD:-admin}
c() { curl -fsS --cacert "$ca" "$@"; }

# A DCR client for this script, then a password-grant token with publisher scopes.
reg=$(c -u "$user:$pass" -H 'Content-Type: application/json' "$apim/client-registration/v0.17/register" \
	-d '{"clientName":"wso2sync-e2e-publisher","owner":"'"$user"'","grantType":"password refresh_token","saasApp":true}')
id=$(jq -r .clientId <<<"$reg") secret=$(jq -r .clientSecret <<<"$reg")
token=$(c -u "$id:$secret" "$apim/oauth2/token" --data-urlencode grant_type=password \
	--data-urlencode "username=$user" --data-urlencode "password=$pass" \
	--data-urlencode 'scope=apim:api_create apim:api_publish apim:api_view apim:api_manage' | jq -r .access_token)
auth=(-H "Authorization: Bearer $token")

for svc in forex ledger payment profile rule-engine wallet; do
	case $svc in rule-engine) name=RuleEngineAPI ;; *) name="$(tr '[:lower:]' '[:upper:]' <<<"${svc:0:1}")${svc:1}API" ;; esac
	if c "${auth[@]}" "$apim/api/am/publisher/v4/apis?query=name:$name" | jq -e '.count > 0' >/dev/null; then
		echo "$name exists"
		continue
	fi
	api=$(c "${auth[@]}" -H 'Content-Type: application/json' "$apim/api/am/publisher/v4/apis" -d '{
		"name": "'"$name"'", "version": "1.0.0", "context": "/'"$svc"'",
		"policies": ["Unlimited", "Gold", "Silver", "Bronze"],
		"endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": "http://'"$svc"':8080"}},
		"operations": [{"target": "/*", "verb": "GET", "throttlingPolicy": "Unlimited", "authType": "Application & Application User"}]}' | jq -r .id)
	rev=$(c "${auth[@]}" -H 'Content-Type: application/json' "$apim/api/am/publisher/v4/apis/$api/revisions" -d '{"description":"e2e"}' | jq -r .id)
	c "${auth[@]}" -H 'Content-Type: application/json' "$apim/api/am/publisher/v4/apis/$api/deploy-revision?revisionId=$rev" \
		-d '[{"name":"Default","vhost":"localhost","displayOnDevportal":true}]' >/dev/null
	c "${auth[@]}" -X POST "$apim/api/am/publisher/v4/apis/change-lifecycle?apiId=$api&action=Publish" >/dev/null
	echo "$name published"
done
