#!/usr/bin/env bash
# Prints a signed JWT-bearer grant (RS256) for fullmakt's token endpoint, using only openssl.
#   scripts/make-grant.sh SETTINGS_FILE SCOPE [AUTHORIZATION_DETAILS_JSON]
# SETTINGS_FILE holds CLIENT_ID, KID, KEY_FILE and ISSUER (serve --demo writes demo/vendor-admin.env).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SETTINGS_FILE SCOPE [AUTHORIZATION_DETAILS_JSON]" >&2; exit 2; }
# shellcheck disable=SC1090
source "$1"
scope=$2
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
jti=$(openssl rand -hex 16)
header=$(printf '{"alg":"RS256","kid":"%s"}' "$KID" | b64url)
extra=""
[ $# -ge 3 ] && extra=",\"authorization_details\":$3"
claims=$(printf '{"aud":"%s","iss":"%s","scope":"%s","iat":%d,"exp":%d,"jti":"%s"%s}' \
  "$ISSUER" "$CLIENT_ID" "$scope" "$now" "$((now + 60))" "$jti" "$extra" | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$KEY_FILE" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$claims" "$signature"
