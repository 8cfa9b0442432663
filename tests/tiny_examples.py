"""One labelled example per task, for unit tests that run the joint model on a handful of texts."""

from __future__ import annotations

from model.data.examples import EntitySentiment, EntitySpan, Example

TINY_EXAMPLES = [
    Example("Apple beats estimates while Intel misses", "sentfin",
            entity_sentiments=[EntitySentiment(0, 5, 2), EntitySentiment(28, 33, 0)]),
    Example("Operating profit rose to EUR 13.1 mn", "phrasebank", sentiment=2),
    Example("Net sales fell by 5 %", "phrasebank", sentiment=0),
    Example("Fed holds rates steady", "twitter_topic", topic=1),
    Example("Peter Blackburn visits Frankfurt", "conll",
            entities=[EntitySpan(0, 15, "PER"), EntitySpan(23, 32, "LOC")]),
]
