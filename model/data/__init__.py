"""Dataset loaders: every format normalised into `model.data.examples.Example`."""
