"""The network: encoder + heads, batching, features, label sets, result types, ticker linking."""
