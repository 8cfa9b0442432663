"""Batched inference: texts in, `model.network.results.ArticleResult` out.

    from model.serving.predictor import Predictor
    predictor = Predictor.load(settings.registry_dir)          # the live version
    results = predictor.predict(["Apple beats estimates while Intel misses"])

One encoder pass per text gives topic, sentiment, entity tags and financial
events; entity sentiment reuses the same token states (no second encoder
pass). Events come from the rules (exact figures against estimates, labelling
patterns) and the events head, and steer the sentiment of the company they
are about (model/serving/events.py). Texts are
sorted by length and padded per batch (length bucketing), then put back in the
caller's order. On CUDA the model runs under bf16 autocast.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch

from model.events.extract import clear_polarity, extract_events
from model.events.taxonomy import FinancialEvent
from model.network.collate import Batch, EncodedText, collate, encode_text, length_buckets
from model.network.features import bio_spans, token_span
from model.network.labels import NER_TAGS, SENTIMENT_LABELS
from model.network.results import ArticleResult, EntityResult, EventResult
from model.network.spans import complete_tagged
from model.serving.events import (
    HEAD_THRESHOLD,
    Span,
    clean_entities,
    head_events,
    merge_events,
    role_of,
    steer,
    with_subject,
)

if TYPE_CHECKING:
    from model.network.modeling import JointOutput

log = logging.getLogger(__name__)


class Linker(Protocol):
    """What the Predictor needs from model.network.linking (a fake in unit tests)."""

    def tickers(self, text: str) -> list[tuple[int, int, str]]: ...  # (start, end, symbol) of cashtags etc.

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None: ...


class NoLinker:
    """Used when model.network.linking is unavailable: no tickers, nothing linked."""

    def tickers(self, text: str) -> list[tuple[int, int, str]]:
        return []

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None:
        return None


class GazetteerLinker:
    """Adapter over model.network.linking (find_tickers + Gazetteer.default())."""

    def __init__(self) -> None:
        from model.network.linking import Gazetteer, find_tickers

        self._find_tickers = find_tickers
        self._gazetteer = Gazetteer.default()

    def tickers(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start, m.end, m.symbol) for m in self._find_tickers(text)]

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None:
        return self._gazetteer.link(text, start, end, entity_type)


def default_linker() -> Linker:
    try:
        return GazetteerLinker()
    except ImportError as error:  # the linking module is another part; run without it rather than fail
        log.warning("entity linking unavailable (%s): entities will have no tickers", error)
        return NoLinker()


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU")
    return torch.device(device)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def inference_batches(token_lengths: list[int], batch_size: int) -> list[list[int]]:
    """How texts are batched for inference: sorted by token count (with the version's max_length), cut into
    runs of `batch_size`, each padded to its longest text; callers put the results back in order.
    `finsent bench model` batches its BERT-base baselines with this too, so both sides see the same batches."""
    return length_buckets(token_lengths, batch_size)


def decide_sentiment(probs: list[float], negative_threshold: float | None = None) -> str:
    """Label from (negative, neutral, positive) probabilities.

    Without a threshold: the argmax. With one: negative iff p(negative) >=
    threshold, else the larger of neutral and positive. The threshold is a
    per-version decision rule for entity sentiment, calibrated on judged event
    headlines (model.reports.event_bench, issue #13) because the training sets call
    factual bad news neutral; the probabilities and scores are left alone.
    """
    if negative_threshold is None:
        return SENTIMENT_LABELS[max(range(3), key=lambda k: probs[k])]
    if probs[0] >= negative_threshold:
        return "negative"
    return "neutral" if probs[1] >= probs[2] else "positive"


class Predictor:
    def __init__(self, model, tokenizer, version: str, device: torch.device,  # noqa: ANN001
                 linker: Linker | None = None, batch_size: int | None = None,
                 entity_negative_threshold: float | None = None,
                 lower_case_words: frozenset[str] = frozenset(),
                 event_head_threshold: float = HEAD_THRESHOLD) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.version = version
        self.device = device
        self.linker = linker if linker is not None else default_linker()
        self.batch_size = batch_size or (256 if device.type == "cuda" else 32)
        self.max_length = model.config.max_length
        # metadata.json "decision": {"entity_negative_threshold": t} of the version; None = argmax
        self.entity_negative_threshold = entity_negative_threshold
        # the version's casing.json: spans of only such words in a title-case headline are no names
        self.lower_case_words = lower_case_words
        # metadata.json "decision": {"event_head_threshold": t}, fitted on the judged tune headlines: a head event
        # is served when the head is this sure of it (above 1: the head adds nothing to the rules)
        self.event_head_threshold = event_head_threshold

    @classmethod
    def load(cls, registry_dir: Path, version: str | None = None, device: str = "auto",
             linker: Linker | None = None, backend: str = "torch", threads: int | None = None) -> Predictor:
        """Load a registry version (None or 'live' = the live one, 'latest' = newest).

        `backend="onnx"` runs the int8 ONNX Runtime export of the version on CPU
        (exported and cached in the version folder on first use, see model.serving.onnx_backend).
        `threads` defaults to the available cores.
        """
        from model.serving.registry import load_lower_case_words, load_metadata, load_model, resolve_version

        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', not {backend!r}")
        resolved = resolve_version(Path(registry_dir), version)
        threads = threads or available_cores()
        decision = load_metadata(Path(registry_dir), resolved).get("decision") or {}
        threshold = decision.get("entity_negative_threshold")
        head_threshold = float(decision.get("event_head_threshold", HEAD_THRESHOLD))
        casing = load_lower_case_words(Path(registry_dir), resolved)
        if backend == "onnx":
            if device == "cuda":
                raise ValueError("the ONNX backend runs on CPU only; use backend='torch' for CUDA")
            from model.network.modeling import load_tokenizer
            from model.serving.onnx_backend import OnnxJointModel
            from model.serving.registry import version_dir

            onnx_model = OnnxJointModel.load(Path(registry_dir), resolved, threads=threads)
            # torch is left with softmaxes and masks of a few hundred numbers: on one thread each is
            # microseconds, on several it may wait ~1 ms for a sleeping thread on a busy machine
            torch.set_num_threads(1)
            tokenizer = load_tokenizer(version_dir(Path(registry_dir), resolved))
            return cls(onnx_model, tokenizer, resolved, torch.device("cpu"), linker=linker,
                       entity_negative_threshold=threshold, lower_case_words=casing,
                       event_head_threshold=head_threshold)
        target = resolve_device(device)
        if target.type == "cpu":
            torch.set_num_threads(threads)
        model, tokenizer = load_model(Path(registry_dir), resolved)
        return cls(model, tokenizer, resolved, target, linker=linker, entity_negative_threshold=threshold,
                   lower_case_words=casing, event_head_threshold=head_threshold)

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> list[ArticleResult]:
        results: list[ArticleResult | None] = [None] * len(texts)
        for indices, items in self.batches(texts, batch_size):
            for index, result in zip(indices, self._predict_batch(items)):
                results[index] = result
        return results  # type: ignore[return-value]

    def batches(self, texts: Sequence[str],
                batch_size: int | None = None) -> Iterator[tuple[list[int], list[EncodedText]]]:
        """The texts encoded (offsets, word shapes) and batched by token count: (their indices, their items)."""
        encoded = [encode_text(self.tokenizer, text, self.max_length) for text in texts]
        for indices in inference_batches([len(e.input_ids) for e in encoded], batch_size or self.batch_size):
            yield indices, [encoded[i] for i in indices]

    @torch.inference_mode()
    def forward(self, items: list[EncodedText]) -> tuple[Batch, JointOutput]:
        """One batch through the joint model: every head's logits, nothing decoded (what `bench model` times)."""
        batch, _ = collate(items, pad_id=self.tokenizer.pad_token_id or 0)
        batch = batch.to(self.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            return batch, self.model(batch)

    @torch.inference_mode()
    def _predict_batch(self, items: list[EncodedText]) -> list[ArticleResult]:
        batch, output = self.forward(items)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            topic_probs = output.topic_logits.float().softmax(-1).cpu()
            # row 0 of the per-source offsets is zero-initialised and shared: plain news gets no dataset bias
            sentiment_probs = output.sentiment_logits.float().softmax(-1).cpu()
            rules = [extract_events(item.text) for item in items]
            entities = [self._entities(item, output.ner_logits[row, :len(item.input_ids)].float().cpu(), rules[row])
                        for row, item in enumerate(items)]
            entity_probs = self._entity_sentiments(items, entities, output, batch)
            event_probs = output.event_logits.float().softmax(-1).cpu() if output.event_logits is not None else None
        results = []
        for row, item in enumerate(items):
            head = head_events(event_probs[row].tolist(), self.model.config.event_types, self.event_head_threshold) \
                if event_probs is not None else []
            events = self._events(item.text, merge_events(rules[row], head), entities[row])
            steering = [event for event, _ in events]  # head events passed event_head_threshold already
            probs = steer(sentiment_probs[row].tolist(), clear_polarity(steering))
            entity_results = []
            for entity, model_probs in zip(entities[row], entity_probs[row]):
                role, polarity = role_of(entity, item.text, steering)
                e_probs = steer(model_probs, polarity)
                label = decide_sentiment(e_probs, self.entity_negative_threshold)
                entity_results.append(EntityResult(
                    start=entity.start, end=entity.end, text=item.text[entity.start:entity.end],
                    entity_type=entity.entity_type, ticker=entity.ticker,
                    sentiment_label=label, sentiment_score=float(e_probs[2] - e_probs[0]),
                    sentiment_probs=[float(p) for p in e_probs], role=role))
            results.append(ArticleResult(
                topic=int(topic_probs[row].argmax()),
                topic_probs=topic_probs[row].tolist(),
                sentiment_label=decide_sentiment(probs),
                sentiment_score=float(probs[2] - probs[0]),
                sentiment_probs=probs,
                entities=entity_results,
                model_version=self.version,
                events=[self._event_result(event, origin, entity_results) for event, origin in events],
            ))
        return results

    @staticmethod
    def _events(text: str, merged: list[tuple[FinancialEvent, str]],
                entities: list[Span]) -> list[tuple[FinancialEvent, str]]:
        """Head events get a subject: the first company-like entity that is no event's broker."""
        companies = [span for span in entities if role_of(span, text, [e for e, _ in merged])[0] != "source"]
        return [(with_subject(event, text, companies), origin) for event, origin in merged]

    @staticmethod
    def _event_result(event: FinancialEvent, origin: str, entities: list[EntityResult]) -> EventResult:
        subject_ticker = None
        if event.subject_span is not None:
            subject_ticker = next((e.ticker for e in entities if e.ticker and e.start < event.subject_span[1]
                                   and event.subject_span[0] < e.end), None)
        return EventResult(
            type=event.type, polarity=event.polarity, subject=event.subject, subject_ticker=subject_ticker,
            source=event.source, origin=origin, confidence=event.confidence, detail=event.detail,
            figures=[{"metric": f.metric, "actual": f.actual, "estimate": f.estimate,
                      "surprise_pct": round(f.surprise_pct, 2)} for f in event.figures])

    def _entities(self, item: EncodedText, ner_logits: torch.Tensor, events: list[FinancialEvent]) -> list[Span]:
        """Decode BIO over first sub-tokens, map back to characters, link, add rule-found tickers, then
        align with the events' exact subject and broker spans and drop junk (model/serving/events.py)."""
        positions = [i for i, first in enumerate(item.label_positions) if first]
        tags = [NER_TAGS[t] for t in self.model.entity_tagger.decode(ner_logits[positions])]
        tagged: list[tuple[int, int, str]] = []
        for first, last, entity_type in bio_spans(tags):
            # the span ends at the last sub-token of its last word
            last_word = item.word_ids[positions[last - 1]]
            end_token = max(i for i, w in enumerate(item.word_ids) if w == last_word)
            tagged.append((item.offsets[positions[first]][0], item.offsets[end_token][1], entity_type))
        # the tagger cuts names short ("Kraft" of "Kraft Heinz"): one company, one key (model/network/spans.py)
        found: list[Span] = []
        for name in complete_tagged(item.text, tagged, self.lower_case_words):
            if name is not None:
                start, end, entity_type = name
                found.append(Span(start, end, entity_type, self.linker.link(item.text, start, end, entity_type)))
        for start, end, symbol in self.linker.tickers(item.text):
            if not any(e.start < end and start < e.end and e.ticker == symbol for e in found):
                found.append(Span(start, end, "TICKER", symbol))
        cleaned = clean_entities(item.text, found, events)
        return [span if span.ticker or span.entity_type != "ORG" or span in found
                else Span(span.start, span.end, "ORG", self.linker.link(item.text, span.start, span.end, "ORG"))
                for span in cleaned]

    def _entity_sentiments(self, items: list[EncodedText], entities: list[list[Span]],
                           output, batch: Batch) -> list[list[list[float]]]:  # noqa: ANN001
        """Probabilities (negative, neutral, positive) per entity, from the already computed token states."""
        n_entities = max([len(e) for e in entities] + [0])
        if n_entities == 0:
            return [[] for _ in items]
        length = batch.input_ids.shape[1]
        mask = torch.zeros((len(items), n_entities, length), device=self.device)
        for row, (item, row_entities) in enumerate(zip(items, entities)):
            for slot, entity in enumerate(row_entities):
                span = token_span(item.offsets, item.word_ids, entity.start, entity.end)
                if span is not None:
                    mask[row, slot, span[0]:span[1]] = 1.0
        logits = self.model.entity_sentiment_head(output.sequence_output, output.pooled, mask)  # (B, E, 3)
        probs = logits.float().softmax(-1).cpu()
        return [probs[row, :len(row_entities)].tolist() for row, row_entities in enumerate(entities)]
