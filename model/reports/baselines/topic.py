"""TF-IDF + logistic regression topic baseline (there is no topic lexicon).

Word uni- and bigrams of the normalised text (`model.data.splits.normalise_text`:
lower case, URLs and punctuation dropped), sublinear TF, multinomial logistic
regression. The regularisation C is chosen from a small grid on a validation
slice carved from the *train* split by the same text hash the dev split uses,
then the model is refit on all of train; dev is only predicted.
"""

from __future__ import annotations

from collections.abc import Sequence

from model.data.examples import Example
from model.data.splits import is_dev, normalise_text

C_GRID: tuple[float, ...] = (4.0, 16.0)
VALIDATION_FRACTION = 0.2  # of the hash range; dev already took [0, 0.1), so ~11 % of train


def make_classifier(c: float):  # noqa: ANN201
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(preprocessor=normalise_text, ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=c, max_iter=2000),
    )


def fit_topic_baseline(train: Sequence[Example], c_grid: Sequence[float] = C_GRID):  # noqa: ANN201
    """(fitted pipeline, chosen C, validation accuracy per C) from topic-labelled train examples."""
    labelled = [e for e in train if e.topic is not None]
    if not labelled:
        raise ValueError("fit_topic_baseline: no topic-labelled training examples")
    inner_train = [e for e in labelled if not is_dev(e.text, VALIDATION_FRACTION)]
    validation = [e for e in labelled if is_dev(e.text, VALIDATION_FRACTION)]
    scores: dict[float, float] = {}
    if len(c_grid) > 1 and inner_train and validation:
        for c in c_grid:
            pipeline = make_classifier(c).fit([e.text for e in inner_train], [e.topic for e in inner_train])
            predicted = pipeline.predict([e.text for e in validation])
            scores[c] = float(sum(int(p) == e.topic for p, e in zip(predicted, validation)) / len(validation))
        chosen = max(c_grid, key=lambda c: (scores[c], -c))
    else:
        chosen = c_grid[0]
    pipeline = make_classifier(chosen).fit([e.text for e in labelled], [e.topic for e in labelled])
    return pipeline, chosen, scores
