"""when a firing series' condition last held (the rules' keep_firing_for)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:10:00

alert_rule_states.held_at: while a series fires, the last evaluation at
which its condition held. A rule's `keep_firing_for` resolves a firing
alert only once its condition has stayed clear that long after held_at
(Prometheus semantics), and the alerter keeps that memory across restarts.
Rows stored before have none: they resolve as before, on the first clear
evaluation after their active_since plus keep_firing_for.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('alert_rule_states', sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('alert_rule_states', 'held_at')
