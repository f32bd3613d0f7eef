"""Comply or explain (issue 19): an explanation of one failing finding of one site, with who, why and until
when, and its revocations. Both tables are only ever appended to (the audit trail): an explanation row is
never edited, a revocation is a row of its own, and an explanation that expired or whose finding changed
ends by comparison with the findings' versions, which are kept too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'explanations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.Column('recorded', sa.DateTime(), nullable=False),
        sa.Column('expires', sa.DateTime(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('evidence_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id']),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_explanations_site_check', 'explanations', ['site_id', 'check_id'])
    op.create_index('ix_explanations_expires', 'explanations', ['expires'])
    op.create_table(
        'explanation_revocations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('explanation_id', sa.Integer(), nullable=False),
        sa.Column('revoked_by', sa.String(length=200), nullable=False),
        sa.Column('revoked', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['explanation_id'], ['explanations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('explanation_id'),
    )


def downgrade() -> None:
    op.drop_table('explanation_revocations')
    op.drop_index('ix_explanations_expires', table_name='explanations')
    op.drop_index('ix_explanations_site_check', table_name='explanations')
    op.drop_table('explanations')
