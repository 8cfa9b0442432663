"""financial events per article and the role of each entity mention

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:00:00

article_events holds the financial events the model found in each article
(issue #25: results and guidance against estimates, rating actions, trials,
bankruptcies, ...), with the company each is about and the polarity for it;
range-partitioned by published_at like the other per-article tables, with a
DEFAULT partition, day partitions ahead (ensure_partitions) and the same
retention as articles. entity_mentions.role says whether a mention is an
event's subject, its source (the broker of a rating) or neither; rows stored
before are `other`.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "partitions"


def upgrade() -> None:
    # Written by hand: autogenerate does not know partitioning; the columns match monitor.storage.models.
    op.add_column('entity_mentions', sa.Column('role', sa.String(length=8), server_default='other', nullable=False))
    op.create_table(
        'article_events',
        sa.Column('article_id', sa.String(length=64), nullable=False),
        sa.Column('model_version', sa.String(length=64), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ordinal', sa.SmallInteger(), nullable=False),
        sa.Column('event_type', sa.String(length=32), nullable=False),
        sa.Column('polarity', sa.SmallInteger(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('subject_key', sa.String(length=128), nullable=True),
        sa.Column('subject_ticker', sa.String(length=16), nullable=True),
        sa.Column('source', sa.Text(), nullable=True),
        sa.Column('origin', sa.String(length=8), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('detail', sa.String(length=32), server_default='', nullable=False),
        sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.PrimaryKeyConstraint('article_id', 'model_version', 'published_at', 'ordinal', name='pk_article_events'),
        postgresql_partition_by='RANGE (published_at)',
    )
    op.create_index('ix_article_events_type_published_at', 'article_events', ['event_type', 'published_at'])
    op.create_index('ix_article_events_subject_key_published_at', 'article_events', ['subject_key', 'published_at'])
    op.create_index('ix_article_events_subject_ticker_published_at', 'article_events',
                    ['subject_ticker', 'published_at'])
    op.execute(f"CREATE TABLE {SCHEMA}.article_events_default PARTITION OF article_events DEFAULT")

    from kernel.settings import get_settings
    from monitor.storage.partitions import ARTICLE_EVENTS, ensure_partitions

    ensure_partitions(op.get_bind(), ahead=get_settings().partitions_ahead, parents=(ARTICLE_EVENTS,))


def downgrade() -> None:
    op.drop_table('article_events')  # and its partitions
    op.drop_column('entity_mentions', 'role')
