"""Reference numbers per prefix and year: one counter row each, seeded from the references
already handed out; the per-call counter goes.

Revision ID: 0013_concurrency
Revises: 0012_snapshots
Create Date: 2026-12-01

"""
import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_concurrency'
down_revision = '0012_snapshots'
branch_labels = None
depends_on = None

REFERENCE = re.compile(r"^(.+)-(\d{4})-(\d+)$")


def upgrade():
    counters = op.create_table(
        'reference_counters',
        sa.Column('prefix', sa.String(length=12), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_reference_counters')),
    )
    # Numbering goes on after the highest number each prefix and year already has.
    last: dict[tuple[str, int], int] = {}
    references = op.get_bind().execute(
        sa.text("SELECT reference FROM applications WHERE reference IS NOT NULL")
    )
    for (reference,) in references:
        match = REFERENCE.match(reference)
        if match is None or len(match.group(1)) > 12:
            continue
        key = (match.group(1), int(match.group(2)))
        last[key] = max(last.get(key, 0), int(match.group(3)))
    if last:
        op.bulk_insert(
            counters,
            [{'prefix': p, 'year': y, 'last': n} for (p, y), n in sorted(last.items())],
        )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('reference_counter')


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reference_counter', sa.Integer(), server_default='0', nullable=False)
        )
    op.drop_table('reference_counters')
