"""the KB improvement loop and communities: answer votes, gaps, agent corrections; residents' and tickets' community

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resident') as batch:
        batch.add_column(sa.Column('community', sa.String(length=32), nullable=True))
        batch.create_index('ix_resident_community', ['community'])
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('community', sa.String(length=32), nullable=True))
        batch.create_index('ix_ticket_community', ['community'])
    op.create_table(
        'answer_vote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('turn_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('vote', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('entries', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['turn_id'], ['turn.id']),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('turn_id', name='uq_answer_vote_turn'),
    )
    op.create_index('ix_answer_vote_conversation_id', 'answer_vote', ['conversation_id'])
    op.create_index('ix_answer_vote_vote', 'answer_vote', ['vote'])
    op.create_table(
        'kb_gap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=True),
        sa.Column('turn_id', sa.Integer(), nullable=True),
        sa.Column('community', sa.String(length=32), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=True),
        sa.Column('model_id', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.ForeignKeyConstraint(['turn_id'], ['turn.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('turn_id', 'kind', name='uq_kb_gap_turn_kind'),
    )
    op.create_index('ix_kb_gap_kind', 'kb_gap', ['kind'])
    op.create_index('ix_kb_gap_conversation_id', 'kb_gap', ['conversation_id'])
    op.create_index('ix_kb_gap_created_at', 'kb_gap', ['created_at'])
    op.create_table(
        'kb_correction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=True),
        sa.Column('turn_id', sa.Integer(), nullable=True),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('original', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reviewer', sa.String(length=64), nullable=True),
        sa.Column('entry_id', sa.String(length=32), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.ForeignKeyConstraint(['turn_id'], ['turn.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kb_correction_conversation_id', 'kb_correction', ['conversation_id'])
    op.create_index('ix_kb_correction_status', 'kb_correction', ['status'])


def downgrade() -> None:
    op.drop_index('ix_kb_correction_status', table_name='kb_correction')
    op.drop_index('ix_kb_correction_conversation_id', table_name='kb_correction')
    op.drop_table('kb_correction')
    op.drop_index('ix_kb_gap_created_at', table_name='kb_gap')
    op.drop_index('ix_kb_gap_conversation_id', table_name='kb_gap')
    op.drop_index('ix_kb_gap_kind', table_name='kb_gap')
    op.drop_table('kb_gap')
    op.drop_index('ix_answer_vote_vote', table_name='answer_vote')
    op.drop_index('ix_answer_vote_conversation_id', table_name='answer_vote')
    op.drop_table('answer_vote')
    with op.batch_alter_table('ticket') as batch:
        batch.drop_index('ix_ticket_community')
        batch.drop_column('community')
    with op.batch_alter_table('resident') as batch:
        batch.drop_index('ix_resident_community')
        batch.drop_column('community')
