"""outside channels (WeChat Work): who writes from there, message ids seen, read cursors

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.Column('conversation_id', sa.String(length=36), nullable=True),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'external_id', name='uq_channel_user'),
    )
    op.create_index('ix_channel_user_resident_id', 'channel_user', ['resident_id'])
    op.create_table(
        'channel_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.String(length=128), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'message_id', name='uq_channel_message'),
    )
    op.create_table(
        'channel_cursor',
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('cursor', sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'account'),
    )


def downgrade() -> None:
    op.drop_table('channel_cursor')
    op.drop_table('channel_message')
    op.drop_index('ix_channel_user_resident_id', table_name='channel_user')
    op.drop_table('channel_user')
