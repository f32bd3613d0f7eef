"""What the batch API (scanner/service/batch.py) and its tokens (scanner/service/tokens.py) keep: tokens, by
the hash of their secret, and requests, each tied to the token that sent it and the run that scans it.

A request is stored before its run is started: the token's row is locked (SQLite takes the write lock at
BEGIN, PostgreSQL `FOR UPDATE`) while the domains it sent in the last 24 hours are counted and the new request
is added, so requests sent at the same moment cannot together go over the token's quota.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from storage.models import ApiTokenRow, BatchRequestRow, WorkItem
from storage.store import Store

QUOTA_PERIOD = timedelta(hours=24)


# --- tokens ---

def add_token(store: Store, name: str, secret_hash: str, max_domains: int) -> ApiTokenRow:
    with store.session() as session:
        token = ApiTokenRow(name=name, secret_hash=secret_hash, created=store.now(), revoked=None,
                            max_domains=max_domains)
        session.add(token)
        session.flush()
        return token


def tokens(store: Store) -> list[ApiTokenRow]:
    with store.session() as session:
        return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))


def revoke_token(store: Store, token_id: int) -> ApiTokenRow | None:
    """Revoke a token (a revoked one keeps the moment it was first revoked). None when there is no such token."""
    with store.session() as session:
        token = session.get(ApiTokenRow, token_id)
        if token is not None and token.revoked is None:
            token.revoked = store.now()
        return token


def active_token(store: Store, secret_hash: str) -> ApiTokenRow | None:
    """The token with this secret's hash, unless it is revoked."""
    with store.session() as session:
        return session.scalar(select(ApiTokenRow).where(ApiTokenRow.secret_hash == secret_hash,
                                                        ApiTokenRow.revoked.is_(None)))


# --- requests ---

@dataclass(frozen=True)
class Quota:
    """What a token may still send now: `used` of `allowed` domains in the last 24 hours."""
    allowed: int
    used: int


def reserve_request(store: Store, token_id: int, name: str, type_: str, domains: int) -> BatchRequestRow | Quota:
    """Store a new request of `domains` domains for the token, or, when that would take the token over its
    quota, store nothing and return the quota."""
    with store.session() as session:
        token = session.get(ApiTokenRow, token_id, with_for_update=True)
        now = store.now()
        used = session.scalar(select(func.coalesce(func.sum(BatchRequestRow.domains), 0)).where(
            BatchRequestRow.token_id == token_id, BatchRequestRow.submitted > now - QUOTA_PERIOD))
        if used + domains > token.max_domains:
            return Quota(token.max_domains, used)
        request = BatchRequestRow(request_id=uuid.uuid4().hex, token_id=token_id, name=name, type=type_,
                                  run_id=None, domains=domains, submitted=now)
        session.add(request)
        session.flush()
        return request


def attach_run(store: Store, request_id: str, run_id: int) -> None:
    with store.session() as session:
        session.scalars(select(BatchRequestRow).where(BatchRequestRow.request_id == request_id)).one().run_id = run_id


def requests_of(store: Store, token_id: int, limit: int | None) -> list[BatchRequestRow]:
    """A token's requests, newest first."""
    with store.session() as session:
        return list(session.scalars(select(BatchRequestRow).where(BatchRequestRow.token_id == token_id)
                                    .order_by(BatchRequestRow.id.desc()).limit(limit)))


def request_of(store: Store, token_id: int, request_id: str) -> BatchRequestRow | None:
    """One request, if this token sent it (another token's requests do not exist for it)."""
    with store.session() as session:
        return session.scalar(select(BatchRequestRow).where(BatchRequestRow.request_id == request_id,
                                                            BatchRequestRow.token_id == token_id))


def work_states(store: Store, run_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each run, how many of its work items are in each state (queued, running, done, error)."""
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return counts
    with store.session() as session:
        for run_id, state, n in session.execute(
                select(WorkItem.run_id, WorkItem.state, func.count()).where(WorkItem.run_id.in_(run_ids))
                .group_by(WorkItem.run_id, WorkItem.state)):
            counts[run_id][state] = n
    return counts
