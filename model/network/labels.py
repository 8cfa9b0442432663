"""Label vocabularies shared by the loaders, the model heads and storage."""

from __future__ import annotations

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

# The Twitter Financial News Topic taxonomy, in label-id order.
TOPIC_LABELS: tuple[str, ...] = (
    "Analyst Update", "Fed / Central Banks", "Company / Product News", "Treasuries / Corporate Debt",
    "Dividend", "Earnings", "Energy / Oil", "Financials", "Currencies", "General News / Opinion",
    "Gold / Metals / Materials", "IPO", "Legal / Regulation", "M&A / Investments", "Macro", "Markets",
    "Politics", "Personnel Change", "Stock Commentary", "Stock Movement",
)

ENTITY_TYPES: tuple[str, ...] = ("ORG", "PER", "LOC", "MISC")
# BIO tags over ENTITY_TYPES; tickers are found by rules (cashtags, exchange
# patterns) and the gazetteer, not tagged by the network.
NER_TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I"))
