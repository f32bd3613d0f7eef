"""Distributed runs (scanner/workers.py): a site's work can be split into parts (its network checks, its browser
checks), each a work item of its own that a worker claims; `worker` names who holds the claim.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('worker', sa.String(length=255), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_work_item', type_='unique')
        batch_op.create_unique_constraint('uq_work_item', ['run_id', 'site_id', 'part'])


def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_constraint('uq_work_item', type_='unique')
        batch_op.create_unique_constraint('uq_work_item', ['run_id', 'site_id'])
        batch_op.drop_column('worker')
        batch_op.drop_column('part')
