"""on-call paging: one row per page, acknowledged or not

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'page',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('person', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered', sa.Boolean(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acked_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'attempt', 'person', name='uq_page_attempt_person'),
    )
    op.create_index('ix_page_ticket_id', 'page', ['ticket_id'])
    op.create_index('ix_page_open', 'page', ['acked_at', 'ticket_id'])


def downgrade() -> None:
    op.drop_index('ix_page_open', table_name='page')
    op.drop_index('ix_page_ticket_id', table_name='page')
    op.drop_table('page')
