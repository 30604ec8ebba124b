#!/usr/bin/env python3
"""Set-up of bench/identity.sh against a running onetrip (standard library only).

    python3 bench/identity_setup.py --url http://127.0.0.1:PORT --admin-token TOKEN \
        --db DATA_DIR/onetrip.db --tokens 2000 --out DIR

1. registers two OAuth clients with the admin token (POST /api/v1/clients): a machine client
   (client_credentials, scope api) and a web client (authorization_code + refresh_token, scopes
   openid offline_access, redirect URI http://127.0.0.1:9/cb);
2. registers two persons: for each, asks for a registration SMS code (POST /api/v1/sms-codes),
   reads it from the sandbox gateway's outbox (table sms_messages of the SQLite database) and
   registers (POST /api/v1/persons) with a generated resident ID number and phone. The second
   person's stored password hash is then replaced (in the database) by KEYCLOAK_COST_HASH, an
   Argon2id hash with Keycloak's default parameters (m=7168 KiB, t=5, p=1), as an account
   imported from Keycloak would carry: onetrip verifies with the parameters of the stored PHC
   string, so that person's sign-ins cost what Keycloak's do;
3. mints --tokens refresh tokens of the web client, each from its own authorization-code flow
   with PKCE (so each is the head of its own token family): --workers threads each sign in with
   the password (POST /api/v1/session, one web session per thread), give consent once
   (GET /oauth2/authorize → consent page → POST /oauth2/authorize), then run flows until done
   (GET /oauth2/authorize → 302 to the callback with a code → POST /oauth2/token);
4. checks once that a client_credentials grant and a password sign-in of each person answer 200.

Writes DIR/refresh-tokens.txt (one token per line, never used) and DIR/setup.json:
{"machine": {"client_id", "client_secret"}, "rp": {...}, "person": {"login", "password"},
 "person_kc": {"login", "password"}, "tokens_file", "tokens"}. Exits non-zero, with the failing request and its answer, on any
unexpected status. Only correct passwords are ever sent (failed sign-ins are throttled).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import html.parser
import http.cookiejar
import json
import re
import secrets
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

REDIRECT_URI = "http://127.0.0.1:9/cb"

# A test vector (not a secret): KEYCLOAK_COST_PASSWORD hashed by the argon2 crate 0.6 with
# Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(7168, 5, 1, Some(32))), i.e.
# Keycloak's default password hashing (Keycloak 24+: type id, version 1.3, memory 7168 KiB,
# iterations 5, parallelism 1, hash length 32), with a random salt.
KEYCLOAK_COST_PASSWORD = "KcCost-bench-7168x5-Pw"
KEYCLOAK_COST_HASH = (
    "$argon2id$v=19$m=7168,t=5,p=1$8s9W7DYLOwMrHnaS59g99w$7zx+iM0tHjlcANVjjUNT2JD35MDko+3ehm3kgQ/RSQM"
)


class Failed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """3xx answers come back as they are (an HTTPError carrying the Location)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


class Client:
    """One HTTP user agent with its own cookie jar (one web session)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, method, path, *, body=None, headers=None, expect=(200,)):
        """Returns (status, headers, body text); raises Failed when status not in expect."""
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as resp:
                status, hdrs, text = resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, hdrs, text = e.code, e.headers, e.read().decode("utf-8", "replace")
        if status not in expect:
            raise Failed(f"{method} {path} → {status} (expected {expect}): {text[:400]}")
        return status, hdrs, text

    def json(self, method, path, payload, *, headers=None, expect=(200,)):
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        status, hdrs, text = self.request(
            method, path, body=json.dumps(payload).encode(), headers=h, expect=expect
        )
        return status, hdrs, (json.loads(text) if text else None)

    def form(self, path, fields, *, headers=None, expect=(200,)):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request(
            "POST", path, body=urllib.parse.urlencode(fields).encode(), headers=h, expect=expect
        )


def basic(client_id: str, secret: str) -> dict:
    # RFC 6749 §2.3.1: form-encode both parts, then Basic.
    raw = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


# --- test identities -----------------------------------------------------------------------

RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id() -> str:
    """A valid 18-character resident ID number (GB 11643, ISO 7064 MOD 11-2 check character):
    division 330106 (杭州市西湖区), a birth date in 1970–1999, a random sequence number."""
    birth = f"{1970 + secrets.randbelow(30)}{1 + secrets.randbelow(12):02d}{1 + secrets.randbelow(28):02d}"
    body = f"330106{birth}{secrets.randbelow(1000):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, RESIDENT_WEIGHTS)) % 11]
    return body + check


def phone() -> str:
    return f"1{3 + secrets.randbelow(7)}{secrets.randbelow(10**9):09d}"


def password() -> str:
    # Letters and digits from a CSPRNG: two classes, no common word, no personal data; checked
    # against 5-character runs so that the policy's sequence rule cannot refuse it.
    while True:
        pw = "Bt" + secrets.token_hex(8) + "Qx"
        if not re.search(r"(.)\1\1", pw) and not any(
            s in pw.lower() for s in ("01234", "12345", "23456", "34567", "45678", "56789", "abcde", "bcdef")
        ):
            return pw


def sms_code(db_path: str, phone_number: str, deadline: float) -> str:
    """The newest 6-digit code sent to phone_number by the sandbox gateway."""
    while True:
        con = sqlite3.connect(db_path, timeout=10)
        try:
            row = con.execute(
                "SELECT body FROM sms_messages WHERE phone = ? ORDER BY sent_at DESC LIMIT 1",
                (phone_number,),
            ).fetchone()
        finally:
            con.close()
        if row:
            m = re.search(r"(?<!\d)(\d{6})(?!\d)", row[0])
            if not m:
                raise Failed(f"no 6-digit code in the SMS body {row[0]!r}")
            return m.group(1)
        if time.monotonic() > deadline:
            raise Failed(f"no SMS message for the phone in {db_path}")
        time.sleep(0.05)


# --- the authorization-code flow -------------------------------------------------------------


class HiddenInputs(html.parser.HTMLParser):
    """Hidden inputs of the consent form (attribute values are unescaped by the parser)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_form = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("action") == "/oauth2/authorize":
            self.in_form = True
        elif tag == "input" and self.in_form and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def code_from(location: str, state: str, issuer: str) -> str:
    if not location.startswith(REDIRECT_URI + "?"):
        raise Failed(f"redirected to {location[:200]}, not to the client's callback")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if "error" in q:
        raise Failed(f"authorization error: {q}")
    if q.get("state") != [state] or q.get("iss") != [issuer]:
        raise Failed(f"callback with state {q.get('state')} iss {q.get('iss')}")
    return q["code"][0]


def one_flow(ua: Client, rp: dict, issuer: str) -> str:
    """One authorization-code flow in ua's (signed-in) session; returns the refresh token."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(8)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": rp["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid offline_access",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=urllib.parse.quote,
    )
    status, hdrs, text = ua.request("GET", "/oauth2/authorize?" + query, expect=(200, 302, 303))
    if status == 200:  # the consent page (first flow of the session)
        form = HiddenInputs()
        form.feed(text)
        if "csrf_token" not in form.fields or form.fields.get("client_id") != rp["client_id"]:
            raise Failed(f"no consent form in the page: {text[:400]}")
        status, hdrs, text = ua.form(
            "/oauth2/authorize", {**form.fields, "decision": "allow"}, expect=(302, 303)
        )
    code = code_from(hdrs["Location"], state, issuer)
    _, _, text = ua.form(
        "/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={**basic(rp["client_id"], rp["client_secret"]), "Accept": "application/json"},
    )
    token = json.loads(text).get("refresh_token")
    if not token:
        raise Failed(f"no refresh_token in the code grant's answer: {text[:300]}")
    return token


def register(base: str, db: str) -> dict:
    """Registers a new person (SMS code from the sandbox outbox); returns login and password."""
    person = {"login": phone(), "password": password()}
    ua = Client(base)
    ua.json("POST", "/api/v1/sms-codes", {"phone": person["login"], "purpose": "register"}, expect=(202,))
    code = sms_code(db, person["login"], time.monotonic() + 10)
    ua.json(
        "POST",
        "/api/v1/persons",
        {
            "resident_id": resident_id(),
            "name": "压测用户",
            "phone": person["login"],
            "password": person["password"],
            "sms_code": code,
        },
        expect=(201,),
    )
    return person


def mint(base: str, rp: dict, person: dict, issuer: str, count: int) -> list[str]:
    """count refresh tokens in one web session (one password sign-in)."""
    ua = Client(base)
    ua.json("POST", "/api/v1/session", {"login": person["login"], "password": person["password"]})
    return [one_flow(ua, rp, issuer) for _ in range(count)]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="onetrip base URL, e.g. http://127.0.0.1:7501")
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--db", required=True, help="path of onetrip's SQLite database")
    ap.add_argument("--tokens", type=int, default=2000, help="refresh tokens to mint")
    ap.add_argument("--workers", type=int, default=4, help="parallel sessions minting tokens")
    ap.add_argument("--out", required=True, help="directory for setup.json and refresh-tokens.txt")
    args = ap.parse_args(argv)

    base = args.url.rstrip("/")
    admin = Client(base)
    bearer = {"Authorization": f"Bearer {args.admin_token}"}
    _, _, disc = admin.request("GET", "/.well-known/openid-configuration")
    issuer = json.loads(disc)["issuer"]

    _, _, machine = admin.json(
        "POST",
        "/api/v1/clients",
        {"name": "bench machine", "grant_types": ["client_credentials"], "scopes": ["api"]},
        headers=bearer,
        expect=(201,),
    )
    _, _, rp = admin.json(
        "POST",
        "/api/v1/clients",
        {
            "name": "bench web client",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "offline_access"],
        },
        headers=bearer,
        expect=(201,),
    )
    machine = {"client_id": machine["client_id"], "client_secret": machine["client_secret"]}
    rp = {"client_id": rp["client_id"], "client_secret": rp["client_secret"]}

    # The persons.
    person = register(base, args.db)
    person_kc = register(base, args.db)
    while person_kc["login"] == person["login"]:
        person_kc = register(base, args.db)
    con = sqlite3.connect(args.db, timeout=10)
    try:
        with con:
            done = con.execute(
                "UPDATE persons SET password_hash = ? WHERE phone = ?",
                (KEYCLOAK_COST_HASH, person_kc["login"]),
            ).rowcount
    finally:
        con.close()
    if done != 1:
        raise Failed(f"could not set the Keycloak-parameter hash ({done} rows)")
    person_kc["password"] = KEYCLOAK_COST_PASSWORD

    # Refresh tokens, each from its own code flow.
    started = time.monotonic()
    workers = max(1, min(args.workers, args.tokens))
    shares = [args.tokens // workers + (1 if i < args.tokens % workers else 0) for i in range(workers)]
    tokens: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for chunk in pool.map(lambda n: mint(base, rp, person, issuer, n), shares):
            tokens.extend(chunk)
    if len(tokens) != args.tokens or len(set(tokens)) != len(tokens):
        raise Failed(f"minted {len(tokens)} tokens ({len(set(tokens))} distinct), not {args.tokens}")
    elapsed = time.monotonic() - started

    # One check of each measured request (a correct password only).
    Client(base).form(
        "/oauth2/token",
        {"grant_type": "client_credentials", "scope": "api"},
        headers=basic(machine["client_id"], machine["client_secret"]),
    )
    for p in (person, person_kc):
        Client(base).json("POST", "/api/v1/session", {"login": p["login"], "password": p["password"]})

    tokens_file = f"{args.out}/refresh-tokens.txt"
    with open(tokens_file, "w") as f:
        f.write("\n".join(tokens) + "\n")
    with open(f"{args.out}/setup.json", "w") as f:
        json.dump(
            {
                "machine": machine,
                "rp": rp,
                "person": person,
                "person_kc": person_kc,
                "tokens_file": tokens_file,
                "tokens": len(tokens),
            },
            f,
        )
    print(
        f"setup: clients {machine['client_id']} (client_credentials) and {rp['client_id']} "
        f"(code + refresh); two persons; {len(tokens)} refresh tokens from as many code flows "
        f"in {elapsed:.1f} s ({workers} sessions)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failed as e:
        print(f"identity_setup: {e}", file=sys.stderr)
        sys.exit(1)
