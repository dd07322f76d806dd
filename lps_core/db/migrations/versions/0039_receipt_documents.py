"""Receipts of more documents than settlements (lps_core.receipts.documents):

- receipt_prints: document (the kind: settlement, bill, card_movement, redemption, settlement_refund,
  bill_refund) and document_id name what was printed; original/COPY numbering is unique per
  document (document, document_id, copy_no). settlement_id stays, set for a settlement's prints
  only; the prints made before keep their numbers (document 'settlement', document_id = settlement_id).

Revision ID: 0039
Revises: 0038
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipt_prints') as batch:
        batch.add_column(sa.Column('document', sa.String(length=24), server_default='settlement', nullable=False))
        batch.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
    op.execute("UPDATE receipt_prints SET document_id = settlement_id")
    with op.batch_alter_table('receipt_prints') as batch:
        batch.alter_column('document_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('settlement_id', existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint('uq_receipt_prints_settlement_id_copy_no', type_='unique')
        batch.create_unique_constraint('uq_receipt_prints_document_copy_no', ['document', 'document_id', 'copy_no'])
        batch.create_check_constraint('settlement_id', "(document = 'settlement') = (settlement_id IS NOT NULL)")


def downgrade():
    op.execute("DELETE FROM receipt_prints WHERE document <> 'settlement'")
    with op.batch_alter_table('receipt_prints') as batch:
        batch.drop_constraint(op.f('ck_receipt_prints_settlement_id'), type_='check')
        batch.drop_constraint('uq_receipt_prints_document_copy_no', type_='unique')
        batch.create_unique_constraint('uq_receipt_prints_settlement_id_copy_no', ['settlement_id', 'copy_no'])
        batch.alter_column('settlement_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('document_id')
        batch.drop_column('document')
