"""Bulk import batches with preview and confirm (lps_core.bulk).

- import_batches: one uploaded file of one kind (members, cards, points), unique by kind and the
  SHA-256 of its bytes, with its status (previewed, applying, applied, stale, discarded), the rows
  by action and how far confirm has applied it;
- import_rows: each previewed row with its action, the conflict or errors, the operator's
  resolution, the basis a stale preview is told by, a member row's phone as its blind index, and
  its values and diff in an encrypted payload.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=4), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('previewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=100), nullable=True),
    sa.Column('applied_through', sa.Integer(), nullable=False),
    sa.Column('applied_rows', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stale_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("file_format IN ('csv', 'xlsx', 'json')", name=op.f('ck_import_batches_file_format')),
    sa.CheckConstraint("kind IN ('members', 'cards', 'points')", name=op.f('ck_import_batches_kind')),
    sa.CheckConstraint("status IN ('previewed', 'applying', 'applied', 'stale', 'discarded')", name=op.f('ck_import_batches_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    sa.UniqueConstraint('kind', 'content_hash', name='uq_import_batches_kind_content_hash')
    )
    op.create_table('import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=9), nullable=False),
    sa.Column('base_action', sa.String(length=9), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.Column('resolution', sa.String(length=24), nullable=True),
    sa.Column('basis', sa.String(length=64), nullable=True),
    sa.Column('blind_index', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.CheckConstraint("action IN ('add', 'change', 'unchanged', 'conflict', 'error')", name=op.f('ck_import_rows_action')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_rows_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rows')),
    sa.UniqueConstraint('batch_id', 'row_no', name='uq_import_rows_batch_row')
    )
    op.create_index('ix_import_rows_batch_action', 'import_rows', ['batch_id', 'action', 'row_no'], unique=False)


def downgrade():
    op.drop_index('ix_import_rows_batch_action', table_name='import_rows')
    op.drop_table('import_rows')
    op.drop_table('import_batches')
