"""Runs keep their run facts (what the checks were told besides the artifacts, such as whether the scanner had
IPv6), and a re-evaluation keeps what it judged again: a run, or every site scanned since a moment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_facts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reevaluates_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reevaluates_since', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('reevaluates_since')
        batch_op.drop_column('reevaluates_run_id')
        batch_op.drop_column('run_facts')
