"""time precision of articles, daily buckets and distinct sources per aggregate bucket

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00

articles.published_precision says whether published_at is known to the minute
or only to the day (or month); the stream worker then counts day-precision
articles only in daily (86400 s) aggregate buckets, never in the midnight
minute and hour. sentiment_aggregates.sources lists the distinct sources of a
bucket, so alert rules can ask for more than one outlet. Rows written before
this migration keep minute precision and an empty source list.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Written by hand; autogenerate against monitor.storage.models finds nothing left to do.
    op.add_column('articles', sa.Column('published_precision', sa.String(length=8), server_default='minute',
                                        nullable=False))
    op.add_column('sentiment_aggregates', sa.Column('sources', postgresql.ARRAY(sa.String(length=64)),
                                                    server_default='{}', nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM sentiment_aggregates WHERE bucket_seconds = 86400")  # the old schema had no daily buckets
    op.drop_column('sentiment_aggregates', 'sources')
    op.drop_column('articles', 'published_precision')
