"""Financial events in news text: taxonomy, the exact estimate parser and the labelling patterns."""
