"""PostgreSQL: leave room on every page of findings and artifacts for one more version of each row.

A night of unchanged sites rewrites each current finding and artifact once (only `last_seen` and
`last_run_id` move). With half of each page free, PostgreSQL keeps the new version on the same page (a
heap-only update) and prunes the old one there, so unchanged nights do not grow the tables or their indexes.
Without it the tables double after the second night. SQLite rewrites rows in place: nothing to do.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = ("findings", "artifacts")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
