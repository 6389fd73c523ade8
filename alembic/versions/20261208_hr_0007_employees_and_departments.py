"""employees and departments: an employee's status (在职 active / 离职 left) and leave date

Revision ID: hr_0007
Revises: srm_asn_0006
Create Date: 2026-12-08 03:20:36.080960
"""
from alembic import op
import sqlalchemy as sa


revision = 'hr_0007'
down_revision = 'srm_asn_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('leave_date', sa.Date(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_employee_status'), "status in ('active','left')")


def downgrade() -> None:
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_employee_status'), type_='check')
        batch_op.drop_column('leave_date')
        batch_op.drop_column('status')
