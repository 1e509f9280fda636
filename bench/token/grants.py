#!/usr/bin/env python3
"""Key material and pre-signed RS256 assertions for bench/token/run.sh.

Two sub-commands:

  keygen  --dir DIR [--kid bench-1]
      Writes DIR/client_key.pem (RSA-2048 private key, PKCS#8) and DIR/client_jwks.json
      (the public half as {"keys":[{kty,use,alg,kid,n,e}]}, base64url without padding).
      The same client key is registered with fullmakt and with the oidc-provider peer.

  sign    --key PEM --kid KID --iss ID --aud AUD --scope S --count N --out FILE
          [--kind fullmakt|peer] [--resource URI] [--workers W]
      Writes N lines, each a complete application/x-www-form-urlencoded request body carrying
      one freshly signed RS256 JWT with a unique jti:
        fullmakt: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>
                  (Maskinporten JWT grant, maskinporten.md §1)
        peer:     grant_type=client_credentials&client_assertion_type=...jwt-bearer
                  &client_assertion=<jwt>&scope=S&resource=URI
                  (private_key_jwt client authentication, RFC 7523 §2.2)
      Signing is all of the cost (~0.7 ms per RSA-2048 signature), so it is spread over W
      worker processes (default: every CPU the script may run on). Lines are written in
      signing order and each JWT's iat is the second it was signed, so a load generator
      that consumes the file front to back always gets the oldest grant first; that keeps
      the grants' age at use as small as possible (they live 180 s + 10 s skew).

Why a file of bodies: the load generator (wrk) must do no crypto during the timed run, and a
JWT is already URL-safe (base64url + '.') so the body needs no further escaping.
"""

import argparse
import base64
import json
import multiprocessing
import os
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_BEARER = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
CLIENT_ASSERTION_TYPE = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
# Maskinporten (and fullmakt) reject exp - iat > 180 s.
LIFETIME = 180
# Signatures are produced in chunks of this many per worker task: big enough that the
# inter-process overhead is negligible, small enough that iat stays monotone-ish in the file.
CHUNK = 250


def b64u_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def keygen(args: argparse.Namespace) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    numbers = key.public_key().public_numbers()
    jwks = {
        "keys": [
            {
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": args.kid,
                "n": b64u_uint(numbers.n),
                "e": b64u_uint(numbers.e),
            }
        ]
    }
    os.makedirs(args.dir, exist_ok=True)
    pem_path = os.path.join(args.dir, "client_key.pem")
    with open(pem_path, "wb") as f:
        f.write(pem)
    os.chmod(pem_path, 0o600)
    with open(os.path.join(args.dir, "client_jwks.json"), "w") as f:
        json.dump(jwks, f)
        f.write("\n")


# --- signing workers -----------------------------------------------------------------------

_worker = {}


def _init_worker(cfg: dict) -> None:
    # Parse the PEM once per process; PyJWT accepts the key object and skips re-parsing.
    with open(cfg["key"], "rb") as f:
        cfg = dict(cfg, key_obj=serialization.load_pem_private_key(f.read(), password=None))
    _worker.update(cfg)


def _sign_chunk(n: int) -> list:
    c = _worker
    headers = {"kid": c["kid"]}
    out = []
    for _ in range(n):
        iat = int(time.time())
        claims = {
            "aud": c["aud"],
            "iss": c["iss"],
            "iat": iat,
            "exp": iat + LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        if c["kind"] == "fullmakt":
            claims["scope"] = c["scope"]
            token = jwt.encode(claims, c["key_obj"], algorithm="RS256", headers=headers)
            out.append(f"grant_type={JWT_BEARER}&assertion={token}")
        else:
            # oidc-provider wants sub == iss == client_id for client assertions.
            claims["sub"] = c["iss"]
            token = jwt.encode(claims, c["key_obj"], algorithm="RS256", headers=headers)
            body = (
                f"grant_type=client_credentials&client_assertion_type={CLIENT_ASSERTION_TYPE}"
                f"&client_assertion={token}&scope={c['scope_enc']}"
            )
            if c["resource_enc"]:
                body += f"&resource={c['resource_enc']}"
            out.append(body)
    return out


def sign(args: argparse.Namespace) -> None:
    from urllib.parse import quote

    cfg = {
        "key": args.key,
        "kid": args.kid,
        "iss": args.iss,
        "aud": args.aud,
        "scope": args.scope,
        "scope_enc": quote(args.scope, safe=""),
        "resource_enc": quote(args.resource, safe="") if args.resource else "",
        "kind": args.kind,
    }
    workers = args.workers or len(os.sched_getaffinity(0))
    chunks = [CHUNK] * (args.count // CHUNK)
    if args.count % CHUNK:
        chunks.append(args.count % CHUNK)

    started = time.monotonic()
    written = 0
    tmp = args.out + ".part"
    with open(tmp, "w") as f, multiprocessing.Pool(workers, _init_worker, (cfg,)) as pool:
        # imap (ordered) keeps the file in signing order, see the module docstring.
        for lines in pool.imap(_sign_chunk, chunks):
            f.write("\n".join(lines))
            f.write("\n")
            written += len(lines)
    os.replace(tmp, args.out)
    elapsed = time.monotonic() - started
    print(
        f"signed {written} {args.kind} assertions in {elapsed:.1f} s "
        f"({written / elapsed:.0f}/s on {workers} processes) -> {args.out}",
        file=sys.stderr,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    k = sub.add_parser("keygen")
    k.add_argument("--dir", required=True)
    k.add_argument("--kid", default="bench-1")
    k.set_defaults(func=keygen)

    s = sub.add_parser("sign")
    s.add_argument("--key", required=True)
    s.add_argument("--kid", default="bench-1")
    s.add_argument("--iss", required=True)
    s.add_argument("--aud", required=True)
    s.add_argument("--scope", required=True)
    s.add_argument("--resource", default="")
    s.add_argument("--kind", choices=["fullmakt", "peer"], default="fullmakt")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--workers", type=int, default=0)
    s.set_defaults(func=sign)

    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
