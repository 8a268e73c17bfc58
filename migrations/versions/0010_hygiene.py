"""Outbox messages get a status: pending, sent or failed (given up, with the reason).

Revision ID: 0010_hygiene
Revises: 0009_released_version
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_hygiene'
down_revision = '0009_released_version'
branch_labels = None
depends_on = None

# The worker stopped at MAIL_MAX_ATTEMPTS (8 by default) and left such messages waiting for
# ever; they are the failed ones now.
MAX_ATTEMPTS = 8


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status', sa.String(length=16), server_default='pending', nullable=False)
        )
    outbox = sa.table(
        'outbox_messages',
        sa.column('status', sa.String),
        sa.column('sent_at', sa.DateTime),
        sa.column('attempts', sa.Integer),
    )
    op.execute(outbox.update().where(outbox.c.sent_at.is_not(None)).values(status='sent'))
    op.execute(
        outbox.update()
        .where(outbox.c.sent_at.is_(None), outbox.c.attempts >= MAX_ATTEMPTS)
        .values(status='failed')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'status', "status IN ('pending', 'sent', 'failed')"
        )
        batch_op.drop_index('ix_outbox_messages_pending')
        batch_op.create_index(
            'ix_outbox_messages_pending', ['status', 'next_attempt_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_pending')
        batch_op.create_index(
            'ix_outbox_messages_pending', ['sent_at', 'next_attempt_at'], unique=False
        )
        batch_op.drop_constraint(op.f('ck_outbox_messages_status'), type_='check')
        batch_op.drop_column('status')
