"""on-call roster versions an admin saves; messages to residents (held through quiet hours, sent to their channel)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oncall_roster',
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('roster', sa.JSON(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('version'),
    )
    op.create_table(
        'resident_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deliver_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('turn_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('external_id', sa.String(length=128), nullable=True),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.Column('sent', sa.Boolean(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.ForeignKeyConstraint(['turn_id'], ['turn.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_resident_message_conversation_id', 'resident_message', ['conversation_id'])
    op.create_index('ix_resident_message_due', 'resident_message', ['turn_id', 'deliver_at'])
    op.create_index('ix_resident_message_outbox', 'resident_message', ['sent', 'channel'])


def downgrade() -> None:
    op.drop_index('ix_resident_message_outbox', table_name='resident_message')
    op.drop_index('ix_resident_message_due', table_name='resident_message')
    op.drop_index('ix_resident_message_conversation_id', table_name='resident_message')
    op.drop_table('resident_message')
    op.drop_table('oncall_roster')
