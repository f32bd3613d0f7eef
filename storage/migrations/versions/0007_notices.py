"""Notices on change (issue 19): subscriptions, what was notified and failed deliveries. Subscriptions are
only appended to: removing one adds a removal row, nothing is edited in place. A notice row is written once
a digest was delivered, with one item row per change it told, unique per subscription, so no change is sent
twice; a failed delivery is a row of its own, and its changes are sent with the next digest.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notice_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_code', sa.String(length=40), nullable=False),
        sa.Column('site_host', sa.String(length=255), nullable=False),
        sa.Column('checks', sa.Text(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('webhook_url', sa.Text(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'notice_subscription_removals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('removed', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['notice_subscriptions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id'),
    )
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('sent', sa.DateTime(), nullable=False),
        sa.Column('state_moment', sa.DateTime(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['notice_subscriptions.id']),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notices_subscription_sent', 'notices', ['subscription_id', 'sent'])
    op.create_table(
        'notice_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['notice_subscriptions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id', 'key', name='uq_notice_item'),
    )
    op.create_table(
        'notice_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('attempted', sa.DateTime(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['notice_subscriptions.id']),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notice_failures_subscription', 'notice_failures', ['subscription_id', 'attempted'])


def downgrade() -> None:
    op.drop_index('ix_notice_failures_subscription', table_name='notice_failures')
    op.drop_table('notice_failures')
    op.drop_table('notice_items')
    op.drop_index('ix_notices_subscription_sent', table_name='notices')
    op.drop_table('notices')
    op.drop_table('notice_subscription_removals')
    op.drop_table('notice_subscriptions')
