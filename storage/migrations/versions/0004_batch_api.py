"""The batch API (scanner/service/batch.py): its tokens, kept as the SHA-256 of the secret, and its requests,
each a run of the store.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('revoked', sa.DateTime(), nullable=True),
        sa.Column('max_domains', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'),
    )
    op.create_table(
        'batch_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=10), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('domains', sa.Integer(), nullable=False),
        sa.Column('submitted', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id'),
    )
    op.create_index('ix_batch_requests_token_submitted', 'batch_requests', ['token_id', 'submitted'])


def downgrade() -> None:
    op.drop_index('ix_batch_requests_token_submitted', table_name='batch_requests')
    op.drop_table('batch_requests')
    op.drop_table('api_tokens')
