"""Interoperability with an independent JOSE implementation (PyJWT + cryptography).

    interop.py keygen DIR          writes DIR/key.pem and prints the public JWKS
    interop.py run BASE CLIENT_ID DIR SCOPE CUSTOMER_ORG
                                   sends grants shaped exactly like pymaskinporten 2.1.0 and
                                   wenche 1.9.0 (maskinporten.md §8) and verifies the access
                                   tokens against BASE/jwk with PyJWT
    interop.py journey BASE CLIENT_ID DIR CUSTOMER_ORG RESOURCE PERSON_TOKEN PARTY_ID
                                   the system-user journey with exactly the HTTP calls wenche
                                   1.9.0 makes (maskinporten.md §8.1): register the system (PUT
                                   when it exists), request a system user, poll its status, get
                                   a system-user token and exchange it, ask for a change, list
                                   the system's users; the customer's approval in between is the
                                   portal's call with PERSON_TOKEN; pymaskinporten's grant shape too
    interop.py altinn BASE PERSON_TOKEN MASKINPORTEN_TOKEN
                                   finds the Altinn issuer's keys through its OpenID
                                   configuration, verifies the person token, exchanges the
                                   Maskinporten token as wenche does and verifies the result

Prints one line per check and 'interop: N passed, 0 failed'; exits 1 at the first failure.
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "py-interop-1"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
passed = 0


def check(name, ok, detail=""):
    global passed
    if not ok:
        print(f"FAIL {name}: {detail}")
        print(f"interop: {passed} passed, 1 failed")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


def keygen(directory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with open(f"{directory}/key.pem", "wb") as f:
        f.write(pem)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    print(json.dumps({"keys": [jwk]}))


def post_token(base, assertion):
    body = urllib.parse.urlencode({"grant_type": GRANT_TYPE, "assertion": assertion}).encode()
    req = urllib.request.Request(f"{base}/token", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def run(base, client_id, directory, scope, customer_org):
    with open(f"{directory}/key.pem", "rb") as f:
        private_key = f.read()
    issuer = base + "/"
    jwks = jwt.PyJWKClient(f"{base}/jwk")

    def verify(token):
        signing_key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(token, signing_key.key, algorithms=["RS256"], issuer=issuer, options={"verify_aud": False})

    # pymaskinporten 2.1.0: PyJWT header {alg, typ, kid}; no sub; exp = iat + 60.
    iat = int(time.time())
    pym_claims = {"aud": issuer, "iss": client_id, "scope": scope, "iat": iat, "exp": iat + 60, "jti": str(uuid.uuid4())}
    pym_grant = jwt.encode(pym_claims, private_key, algorithm="RS256", headers={"kid": KID})
    check("pymaskinporten header has typ JWT", jwt.get_unverified_header(pym_grant).get("typ") == "JWT")
    status, text = post_token(base, pym_grant)
    check("pymaskinporten-shaped grant gets 200", status == 200, f"{status} {text}")
    body = json.loads(text)
    check("expires_in is an integer", isinstance(body.get("expires_in"), int) and not isinstance(body["expires_in"], bool), text)
    check("access_token is a non-empty string", isinstance(body.get("access_token"), str) and body["access_token"], text)
    claims = verify(body["access_token"])
    check("PyJWT verifies the access token against /jwk", claims["client_id"] == client_id, claims)
    check("token carries the consumer", claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": claims["consumer"]["ID"]}
          and claims["consumer"]["ID"].startswith("0192:"), claims)
    check("token header is exactly kid and alg", sorted(jwt.get_unverified_header(body["access_token"])) == ["alg", "kid"])

    status, text = post_token(base, pym_grant)
    check("replayed pymaskinporten grant is refused", status == 400 and json.loads(text)["error"] == "invalid_grant", text)

    # wenche 1.9.0: authlib header {alg, kid, typ}; iss = sub = client_id; exp = iat + 119.
    iat = int(time.time())
    wenche_claims = {"iss": client_id, "sub": client_id, "aud": issuer, "scope": scope, "iat": iat, "exp": iat + 119,
                     "jti": str(uuid.uuid4())}
    wenche_grant = jwt.encode(wenche_claims, private_key, algorithm="RS256", headers={"kid": KID, "typ": "JWT"})
    status, text = post_token(base, wenche_grant)
    check("wenche-shaped grant gets 200", status == 200, f"{status} {text}")
    verify(json.loads(text)["access_token"])
    check("PyJWT verifies the wenche token", True)

    # wenche with a system user not approved yet: it greps this exact string in the body.
    wenche_claims = dict(wenche_claims, jti=str(uuid.uuid4()), authorization_details=[{
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{customer_org}"},
    }])
    grant = jwt.encode(wenche_claims, private_key, algorithm="RS256", headers={"kid": KID, "typ": "JWT"})
    status, text = post_token(base, grant)
    check("system-user grant without a system user says invalid_altinn_customer_configuration",
          status != 200 and "invalid_altinn_customer_configuration" in text, f"{status} {text}")

    # A grant signed by another key under our kid must fail with a client-authentication error.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = jwt.encode(dict(pym_claims, jti=str(uuid.uuid4())), other, algorithm="RS256", headers={"kid": KID})
    status, text = post_token(base, bad)
    body = json.loads(text)
    check("foreign signature is invalid_grant with 'Client authentication'",
          status == 400 and body["error"] == "invalid_grant" and "Client authentication" in body["error_description"], text)
    print(f"interop: {passed} passed, 0 failed")


def altinn(base, person_token, maskinporten_token):
    config_url = f"{base}/authentication/api/v1/openid/.well-known/openid-configuration"
    with urllib.request.urlopen(config_url, timeout=15) as res:
        config = json.loads(res.read().decode())
    issuer = config["issuer"]
    check("the OpenID configuration names the Altinn issuer", issuer == f"{base}/authentication/api/v1/openid/", config)
    jwks = jwt.PyJWKClient(config["jwks_uri"])

    def verify(token):
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=config["id_token_signing_alg_values_supported"], issuer=issuer,
                          options={"verify_aud": False, "require": ["exp", "iat", "iss"]})

    person = verify(person_token)
    check("PyJWT verifies the person token", person["scope"] == "altinn:portal/enduser", person)
    check("the person token carries user, party and level",
          person["urn:altinn:userid"] == str(person["urn:altinn:partyid"]) and person["urn:altinn:authlevel"] in range(5), person)
    check("the person token lives 30 minutes", person["exp"] - person["iat"] == 1800, person)

    # wenche 1.9.0: GET exchange/maskinporten with the bearer token, body stripped of quotes.
    req = urllib.request.Request(f"{base}/authentication/api/v1/exchange/maskinporten",
                                 headers={"Authorization": f"Bearer {maskinporten_token}"})
    with urllib.request.urlopen(req, timeout=15) as res:
        exchanged = res.read().decode().strip().strip('"')
    claims = verify(exchanged)
    check("PyJWT verifies the exchanged token", claims["urn:altinn:authenticatemethod"] == "maskinporten", claims)
    check("the exchanged token names the consumer's organisation",
          claims["consumer"]["ID"] == "0192:" + claims["urn:altinn:orgNumber"] and claims["urn:altinn:authlevel"] == 3, claims)
    check("wenche's cache check reads a numeric exp", isinstance(jwt.decode(exchanged, options={"verify_signature": False})["exp"], int))
    print(f"interop: {passed} passed, 0 failed")


def call(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def journey(base, client_id, directory, customer_org, resource, person_token, party_id):
    with open(f"{directory}/key.pem", "rb") as f:
        private_key = f.read()
    issuer = base + "/"
    api = f"{base}/authentication/api/v1"

    def wenche_grant(scope, details=None):
        iat = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": issuer, "scope": scope, "iat": iat, "exp": iat + 119,
                  "jti": str(uuid.uuid4())}
        if details is not None:
            claims["authorization_details"] = details
        return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": KID, "typ": "JWT"})

    # wenche's admin token: the raw Maskinporten token, not exchanged.
    scopes = ("altinn:authentication/systemregister.write altinn:authentication/systemuser.request.read "
              "altinn:authentication/systemuser.request.write")
    status, text = post_token(base, wenche_grant(scopes))
    check("wenche's admin grant gets 200", status == 200, f"{status} {text}")
    admin = json.loads(text)["access_token"]
    vendor_org = jwt.decode(admin, options={"verify_signature": False})["consumer"]["ID"].split(":")[1]

    system_id = f"{vendor_org}_wenche2"
    system = {"id": system_id, "vendor": {"authority": "iso6523-actorid-upis", "ID": f"0192:{vendor_org}"},
              "name": {"nb": "Wenche", "nn": "Wenche", "en": "Wenche"},
              "description": {"nb": "Aksjonærregister", "nn": "Aksjonærregister", "en": "Shareholder register"},
              "clientId": [client_id], "isVisible": True,
              "rights": [{"resource": [{"id": "urn:altinn:resource", "value": resource}]}]}
    status, text = call("POST", f"{api}/systemregister/vendor", admin, system)
    check("POST systemregister/vendor registers the system", status == 200, f"{status} {text}")
    status, text = call("POST", f"{api}/systemregister/vendor", admin, system)
    check("registering again is a 400 that says 'already exists'", status == 400 and "already exists" in text, f"{status} {text}")
    status, text = call("PUT", f"{api}/systemregister/vendor/{system_id}", admin, system)
    check("so wenche PUTs it instead", status == 200, f"{status} {text}")

    request = {"systemId": system_id, "partyOrgNo": customer_org, "integrationTitle": "Wenche",
               "rights": [{"resource": [{"id": "urn:altinn:resource", "value": resource}]}]}
    status, text = call("POST", f"{api}/systemuser/request/vendor", admin, request)
    body = json.loads(text) if text else {}
    check("POST systemuser/request/vendor answers id, status and confirmUrl",
          status == 201 and body.get("status") == "New" and body.get("confirmUrl", "").startswith(base), f"{status} {text}")
    request_id = body["id"]
    status, text = call("GET", f"{api}/systemuser/request/vendor/{request_id}", admin)
    check("polling the request says New", status == 200 and json.loads(text)["status"] == "New", f"{status} {text}")

    status, text = post_token(base, wenche_grant("altinn:instances.read", [{
        "type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{customer_org}"}}]))
    check("before approval wenche finds 'invalid_altinn_customer_configuration'",
          status != 200 and "invalid_altinn_customer_configuration" in text, f"{status} {text}")

    # The customer approves in the portal (what the confirmUrl page calls).
    status, text = call("POST", f"{api}/systemuser/request/{party_id}/{request_id}/approve", person_token)
    check("the customer's approval", status == 200 and text.strip() == "true", f"{status} {text}")
    status, text = call("GET", f"{api}/systemuser/request/vendor/{request_id}", admin)
    check("polling the request says Accepted", status == 200 and json.loads(text)["status"] == "Accepted", f"{status} {text}")

    status, text = post_token(base, wenche_grant("altinn:instances.read", [{
        "type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{customer_org}"}}]))
    check("wenche's system-user grant gets 200", status == 200, f"{status} {text}")
    token = json.loads(text)["access_token"]
    details = jwt.decode(token, options={"verify_signature": False})["authorization_details"]
    check("the token names the system user and the system",
          details[0]["type"] == "urn:altinn:systemuser" and details[0]["systemuser_id"] == [request_id]
          and details[0]["system_id"] == system_id, details)
    req = urllib.request.Request(f"{api}/exchange/maskinporten", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=15) as res:
        exchanged = res.read().decode().strip().strip('"')
    exchanged_details = jwt.decode(exchanged, options={"verify_signature": False})["authorization_details"]
    check("the exchanged token carries authorization_details as one object",
          isinstance(exchanged_details, dict) and exchanged_details["systemuser_id"] == [request_id], exchanged_details)

    # pymaskinporten 2.1.0's shape (no sub, exp = iat + 60) for the same system user.
    iat = int(time.time())
    grant = jwt.encode({"aud": issuer, "iss": client_id, "scope": "altinn:instances.read", "iat": iat, "exp": iat + 60,
                        "jti": str(uuid.uuid4()), "authorization_details": [{"type": "urn:altinn:systemuser",
                        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{customer_org}"}}]},
                       private_key, algorithm="RS256", headers={"kid": KID})
    status, text = post_token(base, grant)
    body = json.loads(text)
    check("pymaskinporten's system-user grant gets an integer expires_in", status == 200 and isinstance(body.get("expires_in"), int),
          f"{status} {text}")

    correlation = str(uuid.uuid4())
    change = {"requiredRights": [], "unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": resource}]}]}
    status, text = call("POST", f"{api}/systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={request_id}",
                        admin, change)
    body = json.loads(text) if text else {}
    check("a change request answers status and confirmUrl",
          status == 201 and body.get("status") == "New" and (body.get("confirmUrl") or body.get("ConfirmUrl")), f"{status} {text}")

    users, url = [], f"{api}/systemuser/vendor/bysystem/{system_id}"
    while url:
        status, text = call("GET", url, admin)
        check("GET systemuser/vendor/bysystem page", status == 200, f"{status} {text}")
        page = json.loads(text)
        users += [(u["id"], u["reporteeOrgNo"]) for u in page["data"]]
        url = page.get("links", {}).get("next")
    check("the system's users list the approved one", users == [(request_id, customer_org)], users)
    print(f"interop: {passed} passed, 0 failed")


if __name__ == "__main__":
    if sys.argv[1:2] == ["keygen"]:
        keygen(sys.argv[2])
    elif sys.argv[1:2] == ["run"]:
        run(*sys.argv[2:7])
    elif sys.argv[1:2] == ["journey"]:
        journey(*sys.argv[2:9])
    elif sys.argv[1:2] == ["altinn"]:
        altinn(*sys.argv[2:5])
    else:
        print(__doc__)
        sys.exit(2)
