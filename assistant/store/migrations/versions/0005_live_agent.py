"""live agent hand-off: who holds a conversation, and who spoke each turn

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation') as batch:
        batch.add_column(sa.Column('agent_state', sa.String(length=16), nullable=False, server_default='none'))
        batch.add_column(sa.Column('agent_user', sa.String(length=64), nullable=True))
        batch.create_index('ix_conversation_agent_state', ['agent_state'])
    with op.batch_alter_table('turn') as batch:
        batch.add_column(sa.Column('speaker', sa.String(length=16), nullable=False, server_default='assistant'))


def downgrade() -> None:
    with op.batch_alter_table('turn') as batch:
        batch.drop_column('speaker')
    with op.batch_alter_table('conversation') as batch:
        batch.drop_index('ix_conversation_agent_state')
        batch.drop_column('agent_user')
        batch.drop_column('agent_state')
