"""Notices on change (issue 19, docs/notices.md): subscribers' targets checked, and after each run one digest
per subscriber delivered by e-mail or webhook.

Targets are hostile input like the sites someone asks the web service to check: an e-mail address must be
`local@host` with a host name by the site-list rules (scanner/targets.py `normalise_host`); a webhook must be
an http(s) URL without user name or password, whose host is such a name or an IP address, and every address
it resolves to must be one the scanner may connect to (scanner/addresses.py `AddressPolicy`, with
`[notify] allowed_networks` in place of the scanner's): a loopback, private or reserved address is refused
at `notify add`, and again at every delivery (the name is resolved once and that checked address is the one
connected to, so a name that changes its answer cannot lead the request inside).

`after_run` is called when a run is finished and stored (`govscan scan`, the scheduler's runs, distributed
or not). It never raises and has its own time budget (`[notify] budget_seconds`): a failing SMTP server or
webhook is logged and recorded (storage/notices.py), the run's result and the command's exit status stay
as they were, and the untold changes go with the next digest. Each digest is tried `[notify] attempts` times
with a backoff, every connection with `[notify] timeout`.

E-mail goes through `[notify] smtp_host`, STARTTLS required (and the server's certificate verified against
`[trust] ca_bundle`) unless `smtp_starttls = false`. A webhook receives the digest as JSON in a POST, with
`X-Govscan-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed with the subscription's secret (made at
`notify add`, shown once); a 2xx answer is a delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import time
import unicodedata
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Callable
from urllib.parse import urlsplit

from govscan.model import Text, say, utc_iso
from reports.digest import Digest, organisation_links, render
from scanner.addresses import AddressPolicy
from scanner.config import Settings
from scanner.targets import MAX_URL, RefusedTarget, normalise_host
from storage import notices
from storage.store import Store, state_on

log = logging.getLogger("govscan.notify")

MAX_EMAIL = 254  # RFC 5321's path limit
LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
MAX_LOCAL = 64
SIGNATURE_HEADER = "X-Govscan-Signature"


class DeliveryError(Exception):
    """A digest that did not arrive: why, for the log and the failure record."""


# --- targets ---

def check_email(text: str) -> str:
    """A subscriber's e-mail address, its domain normalised (IDN to punycode); RefusedTarget when malformed."""
    text = text.strip()
    if len(text) > MAX_EMAIL or text.count("@") != 1:
        raise RefusedTarget(f"{text[:MAX_EMAIL]!r} is geen e-mailadres (naam@domein.nl)",
                            f"{text[:MAX_EMAIL]!r} is not an e-mail address (name@domain.nl)")
    local, domain = text.split("@")
    if not LOCAL_PART.fullmatch(local) or len(local) > MAX_LOCAL:
        raise RefusedTarget(f"{text!r}: ongeldig deel voor de @", f"{text!r}: invalid part before the @")
    try:
        host = normalise_host(domain)
    except RefusedTarget as exc:
        raise RefusedTarget(f"{text!r}: {exc.text.nl}", f"{text!r}: {exc.text.en}") from None
    return f"{local}@{host}"


def check_webhook(text: str, policy: AddressPolicy,
                  resolve: Callable[[str, int], list[str]] | None = None) -> str:
    """A webhook URL that may be posted to (see the module's docstring); RefusedTarget with the reason when
    not. Its host's addresses are resolved and judged now, as they are again at each delivery."""
    text = text.strip()
    if not text or len(text) > MAX_URL:
        raise RefusedTarget(f"een webhook-URL van 1 tot {MAX_URL} tekens", f"a webhook URL of 1 to {MAX_URL} characters")
    odd = next((c for c in text if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")), None)
    if odd is not None:
        raise RefusedTarget(f"witruimte of een stuurteken ({ord(odd):#06x}) in de URL",
                            f"white space or a control character ({ord(odd):#06x}) inside the URL")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise RefusedTarget(f"{text!r} is geen http(s)-URL", f"{text!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("een webhook-URL met een gebruikersnaam of wachtwoord wordt geweigerd",
                            "a webhook URL with a user name or password is refused")
    try:
        port = parts.port
    except ValueError:
        raise RefusedTarget(f"ongeldige poort in {text!r}", f"invalid port in {text!r}") from None
    host = _host(parts.hostname or "")
    addresses(host, port or (443 if scheme == "https" else 80), policy, resolve)
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}{f':{port}' if port else ''}{parts.path or '/'}{f'?{parts.query}' if parts.query else ''}"


def _host(host: str) -> str:
    """An IP address as it is (judged by the policy), a name by the site-list rules."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return normalise_host(host)


def addresses(host: str, port: int, policy: AddressPolicy,
              resolve: Callable[[str, int], list[str]] | None = None) -> list[str]:
    """The addresses of a webhook's host, each allowed by the policy; RefusedTarget naming the first that is
    not (a webhook at a loopback, private or reserved address), or when the name does not resolve."""
    try:
        found = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            found = (resolve or _resolve)(host, port)
        except OSError as exc:
            raise RefusedTarget(f"{host} is niet te vinden ({exc})", f"{host} cannot be resolved ({exc})") from None
    if not found:
        raise RefusedTarget(f"{host} heeft geen adres", f"{host} has no address")
    for address in found:
        why = policy.refusal(address)
        if why is not None:
            where = Text(address, address) if address == host else Text(f"{host} leidt naar {address}",
                                                                        f"{host} leads to {address}")
            raise RefusedTarget(
                f"{where.nl} ({why}): zo'n adres krijgt geen webhook "
                "([notify] allowed_networks kan een netwerk toestaan, nooit een cloud-metadata-adres)",
                f"{where.en} ({why}): no webhook is sent to such an address "
                "([notify] allowed_networks can allow a network, never a cloud metadata address)")
    return found


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))


def new_secret() -> str:
    """A webhook's signing key: 32 random bytes as hex (64 characters)."""
    return secrets.token_hex(32)


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- delivery ---

def send_email(settings: Settings, to: str, digest: Digest) -> None:
    """One digest through the configured SMTP server; DeliveryError when it is not accepted."""
    notify = settings.notify
    if not notify.smtp_host or not notify.smtp_from:
        raise DeliveryError("[notify] smtp_host and smtp_from are not set")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = notify.smtp_from, to, digest.subject
    message["Date"], message["Message-ID"] = formatdate(usegmt=True), make_msgid(domain="govscan")
    message.set_content(digest.text)
    try:
        with smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=notify.timeout) as smtp:
            smtp.ehlo()
            if notify.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{notify.smtp_host} offers no STARTTLS (required: [notify] smtp_starttls)")
                smtp.starttls(context=ssl.create_default_context(cafile=str(settings.trust.ca_bundle_path)))
                smtp.ehlo()
            if notify.smtp_user:
                smtp.login(notify.smtp_user, os.environ.get(notify.smtp_password_env, ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"SMTP {notify.smtp_host}:{notify.smtp_port}: {exc}") from None


def send_webhook(settings: Settings, url: str, secret: str, digest: Digest,
                 resolve: Callable[[str, int], list[str]] | None = None) -> None:
    """One digest as a signed JSON POST to the first allowed address of the webhook's host; DeliveryError
    unless it answers 2xx."""
    notify = settings.notify
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        address = addresses(parts.hostname, port, notify.address_policy, resolve)[0]
    except RefusedTarget as exc:
        raise DeliveryError(str(exc)) from None
    body = json.dumps(digest.payload, ensure_ascii=False).encode()
    if https:
        context = ssl.create_default_context(cafile=str(settings.trust.ca_bundle_path))
        connection = http.client.HTTPSConnection(parts.hostname, port, timeout=notify.timeout, context=context)
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=notify.timeout)
    # connect to the address just judged, not to whatever the name resolves to next (TLS still checks the name)
    connection._create_connection = lambda _, timeout, source: socket.create_connection((address, port), timeout,
                                                                                         source)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: signature(secret, body),
            "User-Agent": "govscan-notify"})
        response = connection.getresponse()
        response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"webhook {parts.hostname}:{port}: {exc}") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DeliveryError(f"webhook {parts.hostname}:{port}: HTTP {response.status}")


def deliver(settings: Settings, subscription: notices.Subscription, digest: Digest, deadline: float,
            sleep: Callable[[float], None] = time.sleep) -> None:
    """Try a digest up to `[notify] attempts` times, waiting `backoff_seconds` (doubled each time) in between,
    never beyond `deadline` (time.monotonic); DeliveryError with the last failure."""
    notify = settings.notify
    wait = notify.backoff_seconds
    for attempt in range(1, max(1, notify.attempts) + 1):
        try:
            if subscription.email:
                send_email(settings, subscription.email, digest)
            else:
                send_webhook(settings, subscription.webhook_url, subscription.secret, digest)
            return
        except DeliveryError as exc:
            failure = exc
        if attempt == notify.attempts or time.monotonic() + wait >= deadline:
            break
        sleep(wait)
        wait *= 2
    raise failure


def after_run(store: Store, settings: Settings, run_id: int | None = None,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, int]:
    """Tell every subscriber what changed since their last digest: one digest each, or none when nothing
    did. Never raises (the run is stored already); returns the counts `sent`, `failed`, `unchanged`."""
    counts = {"sent": 0, "failed": 0, "unchanged": 0}
    try:
        subscribers = notices.subscriptions(store)
        if not subscribers:
            return counts
        deadline = time.monotonic() + settings.notify.budget_seconds
        now = store.now()
        with store.session() as session:
            state = state_on(session, now, listed_only=True)
        links = organisation_links(settings.notify.site_url, state)
    except Exception:
        log.exception("notices: cannot read the subscriptions or the state; nothing sent")
        return counts
    for subscription in subscribers:
        changes: list[notices.Change] = []
        try:
            changes = notices.pending(store, subscription, now, within_days=settings.notify.expiring_days,
                                      current=state)
            if not changes:
                counts["unchanged"] += 1
                continue
            if time.monotonic() >= deadline:
                raise DeliveryError("[notify] budget_seconds used up: left for the next run")
            deliver(settings, subscription, render(subscription, changes, links, now), deadline, sleep)
        except Exception as exc:  # a delivery failure, or a bug: the run and the other subscribers go on
            counts["failed"] += 1
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning("notice to subscription %s (%s) failed: %s", subscription.id, subscription.target, error)
            try:
                notices.record_failure(store, subscription, changes, error, run_id)
            except Exception:
                log.exception("cannot record the failed notice of subscription %s", subscription.id)
            continue
        try:
            notices.record_sent(store, subscription, now, changes, run_id)
        except Exception:  # delivered but not recorded: the subscriber may hear of these changes again
            log.exception("notice to subscription %s was delivered but cannot be recorded", subscription.id)
        counts["sent"] += 1
        log.info("notice to subscription %s: %d change(s)", subscription.id, len(changes))
    return counts



# --- the command ---

def notify_command(ctx, args) -> int:
    """`govscan notify add --org CODE | --site HOST | --check PATTERNS (--email ADDRESS | --webhook URL)
    [--lang en]`, `notify list [--format json]`, `notify remove ID`. Bad input is a usage error (exit 2) and
    nothing is stored."""
    from reports.console import print_json, safe
    from scanner.cli import EXIT_OK, UsageError
    from scanner.targets import parse_organisation_code, parse_target

    lang = ctx.lang
    try:
        if args.notify_command == "add":
            site = parse_target(args.site).host if args.site is not None else ""
            org = parse_organisation_code(args.org) if args.org is not None else ""
            if args.check is not None:
                ctx.checks(args.check)  # a pattern that matches no check is a usage error
            email = check_email(args.email) if args.email is not None else ""
            webhook = check_webhook(args.webhook, ctx.settings.notify.address_policy) if args.webhook else ""
            secret = new_secret() if webhook else ""
            subscription = notices.subscribe(ctx.store, org_code=org, site_host=site, checks=args.check or "",
                                             email=email, webhook_url=webhook, secret=secret,
                                             lang=args.digest_lang or lang)
            ctx.out.print(say(lang, f"Abonnement {subscription.id}: {safe(describe(subscription, lang))}",
                                    f"Subscription {subscription.id}: {safe(describe(subscription, lang))}"))
            if email and not (ctx.settings.notify.smtp_host and ctx.settings.notify.smtp_from):
                ctx.err.print(safe(say(lang, "Let op: [notify] smtp_host en smtp_from zijn niet ingesteld; tot dan "
                                             "mislukt elke e-mail (en wordt die bij de volgende run opnieuw geprobeerd).",
                                             "Note: [notify] smtp_host and smtp_from are not set; until they are, "
                                             "every e-mail fails (and is tried again at the next run).")))
            if secret:
                ctx.err.print(say(lang, f"De sleutel van de handtekening ({SIGNATURE_HEADER}: sha256=HMAC-SHA256 "
                                        "van de body) wordt niet opnieuw getoond:",
                                        f"The signature's key ({SIGNATURE_HEADER}: sha256=HMAC-SHA256 of the body) "
                                        "is not shown again:"))
                print(secret)
        elif args.notify_command == "list":
            rows = notices.subscriptions(ctx.store, removed=args.removed)
            if args.format == "json":
                print_json([listed(row) for row in rows])
            else:
                for row in rows:
                    ctx.out.print(f"{row.id}  {safe(describe(row, lang))}")
                if not rows:
                    ctx.out.print(say(lang, "Geen abonnementen.", "No subscriptions."))
        else:
            row = notices.remove(ctx.store, args.subscription_id)
            ctx.out.print(say(lang, f"Abonnement {row.id} ({safe(row.target)}) is opgezegd.",
                                    f"Subscription {row.id} ({safe(row.target)}) is removed."))
    except RefusedTarget as exc:
        raise UsageError(exc.text.get(lang)) from None
    except notices.NoticeRefused as exc:
        raise UsageError(exc.text.get(lang)) from None
    return EXIT_OK


def describe(row: notices.Subscription, lang: str) -> str:
    """One line: what it chooses, where it goes, its language, and how its deliveries went."""
    chosen = [f"org {row.org_code}" if row.org_code else "", f"site {row.site_host}" if row.site_host else "",
              f"checks {row.checks}" if row.checks else ""]
    parts = [", ".join(c for c in chosen if c), f"→ {row.target}", row.lang,
             say(lang, f"sinds {row.created:%Y-%m-%d}", f"since {row.created:%Y-%m-%d}")]
    if row.last_sent:
        parts.append(say(lang, f"laatste melding {row.last_sent:%Y-%m-%d %H:%M}",
                               f"last notice {row.last_sent:%Y-%m-%d %H:%M}"))
    if row.last_failure:
        parts.append(say(lang, f"niet afgeleverd {row.last_failure:%Y-%m-%d %H:%M}: {row.last_error}",
                               f"not delivered {row.last_failure:%Y-%m-%d %H:%M}: {row.last_error}"))
    if row.removed:
        parts.append(say(lang, f"opgezegd {row.removed:%Y-%m-%d}", f"removed {row.removed:%Y-%m-%d}"))
    return "  ".join(parts)


def listed(row: notices.Subscription) -> dict:
    """A subscription for `notify list --format json`: everything but its secret."""
    return {"id": row.id, "org": row.org_code or None, "site": row.site_host or None, "checks": row.checks or None,
            "email": row.email or None, "webhook": row.webhook_url or None, "lang": row.lang,
            "created": utc_iso(row.created), "removed": utc_iso(row.removed),
            "last_notice": utc_iso(row.last_sent), "last_failure": utc_iso(row.last_failure),
            "last_error": row.last_error or None}
