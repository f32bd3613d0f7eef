"""The batch API's tokens: `govscan token create|list|revoke`, and checking the token a request brings.

A token's secret is 32 random bytes (`secrets.token_urlsafe`), printed once when it is created. The store
keeps only its SHA-256. A fast unsalted hash is right for this secret, unlike for a password: with 256 bits of
entropy, nobody can find the secret from its hash by guessing, however fast the hash, so a slow salted
function (bcrypt, scrypt) would add nothing but cost on every API call; and an unsalted hash lets a request's
token be found with one indexed lookup. Someone who reads the database learns who has tokens, not a token.
"""
from __future__ import annotations

import hashlib
import secrets

from govscan.model import say
from reports.console import print_json, safe
from storage import batch as stored
from storage.models import ApiTokenRow

SECRET_BYTES = 32
MAX_SECRET = 200  # characters: a longer "token" in a request is not hashed, it is refused


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(store, name: str, max_domains: int) -> tuple[ApiTokenRow, str]:
    """A new token: its row and its secret (shown once, never stored)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return stored.add_token(store, name, secret_hash(secret), max_domains), secret


def authenticate(store, secret: str | None) -> ApiTokenRow | None:
    """The token a request brings, if it exists and is not revoked."""
    if not secret or len(secret) > MAX_SECRET:
        return None
    return stored.active_token(store, secret_hash(secret))


def describe(token: ApiTokenRow) -> dict:
    """A token for `token list`: everything but its secret, which is not kept."""
    return {"id": token.id, "name": token.name, "created": token.created.isoformat() + "Z",
            "revoked": token.revoked.isoformat() + "Z" if token.revoked else None,
            "max_domains_per_day": token.max_domains}


def token_command(ctx, args) -> int:
    """`govscan token create --name X [--max-domains N]`, `token list [--format json]`, `token revoke ID`."""
    from scanner.cli import EXIT_OK, UsageError

    lang = ctx.lang
    if args.token_command == "create":
        name = args.name.strip()
        max_domains = args.max_domains if args.max_domains is not None else ctx.settings.service.token_domains_per_day
        if not name or len(name) > 200:
            raise UsageError(say(lang, "geef een naam van 1 tot 200 tekens", "give a name of 1 to 200 characters"))
        if max_domains < 1:
            raise UsageError(say(lang, "--max-domains moet minstens 1 zijn", "--max-domains must be at least 1"))
        token, secret = create(ctx.store, name, max_domains)
        ctx.err.print(say(lang, f"Token {token.id} voor {safe(name)}, {max_domains} domeinen per dag. Het geheim "
                                "hieronder wordt niet bewaard en niet opnieuw getoond:",
                                f"Token {token.id} for {safe(name)}, {max_domains} domains a day. The secret below "
                                "is not kept and is not shown again:"))
        print(secret)
    elif args.token_command == "list":
        rows = [describe(token) for token in stored.tokens(ctx.store)]
        if args.format == "json":
            print_json(rows)
        else:
            for row in rows:
                state = (say(lang, f"ingetrokken {row['revoked']}", f"revoked {row['revoked']}") if row["revoked"]
                         else say(lang, "actief", "active"))
                per_day = say(lang, "domeinen per dag", "domains a day")
                ctx.out.print(f"{row['id']}  {safe(row['name'])}  {row['created']}  "
                              f"{per_day}: {row['max_domains_per_day']}  {state}")
            if not rows:
                ctx.out.print(say(lang, "Geen tokens.", "No tokens."))
    else:
        token = stored.revoke_token(ctx.store, args.token_id)
        if token is None:
            raise UsageError(say(lang, f"geen token {args.token_id}", f"no token {args.token_id}"))
        ctx.out.print(say(lang, f"Token {token.id} ({safe(token.name)}) is ingetrokken.",
                                f"Token {token.id} ({safe(token.name)}) is revoked."))
    return EXIT_OK
