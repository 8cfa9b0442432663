"""ONNX Runtime int8 CPU backend for the joint model.

A registry version's weights are exported once with torch.onnx (opset 17,
dynamic batch and sequence axes), dynamically quantised to int8 weights with
`onnxruntime.quantization.quantize_dynamic`, and cached inside the version
folder::

    <registry_dir>/<version>/onnx/
        model.int8.onnx            encoder + topic / sentiment / NER heads, int8 weights
        entity_sentiment.onnx      the entity-sentiment head (two small matmuls, kept fp32)
        export.json                opset, library versions, SHA-256 of the weights it came from
        parity.json                the serving check: per-task label agreement with torch on dev
                                   samples (model.reports.onnx_bench.prepare_serving), pass/fail at 0.97

The folder is built in a hidden temporary folder and renamed into place, so a
reader never sees half an export; a stale export (weights changed) is rebuilt.
Entity sentiment is a second, tiny graph because its input (the token mask of
each decoded entity) only exists after the NER logits have been decoded.

`OnnxJointModel` answers the same calls as `model.network.modeling.JointModel` does for
inference (`model(batch)` -> JointOutput, `.entity_tagger.decode`,
`.entity_sentiment_head(...)`, `.config`), so `Predictor` and
`model.training.evaluation.predict_labels` run on it unchanged:

    predictor = Predictor.load(settings.registry_dir, backend="onnx")
    finsent bench onnx --json          # parity with torch on the dev sets, and speed

`choose_backend` decides what FINSENT_MODEL_BACKEND=auto serves: the int8
export on CPU when the version's parity report passes, torch otherwise (and
always on CUDA), with the reason in words for the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from model.network.collate import Batch
from model.network.modeling import EntityTagger, JointModel, JointOutput, ModelConfig, SharedStates, mean_pool
from model.network.tasks import TASKS, Task, tasks_named

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
MODEL_FILE = "model.int8.onnx"
ENTITY_FILE = "entity_sentiment.onnx"
EXPORT_INFO_FILE = "export.json"
PARITY_FILE = "parity.json"
# auto serves int8 only when every task's labels agree with torch at least this often on dev
PARITY_THRESHOLD = 0.97
PARITY_TASKS: tuple[str, ...] = tuple(task.slug for task in TASKS if task.parity)
OPSET = 17
ARTICLE_INPUTS = ("input_ids", "attention_mask", "shape_ids", "source_ids")
SHARED_OUTPUTS = ("sequence_output", "pooled")
ENTITY_INPUTS = ("sequence_output", "pooled", "entity_token_mask")


def graph_tasks(config: ModelConfig, graph: str) -> tuple[Task, ...]:
    """The model's tasks that an exported graph ("article" or "entity") computes, in registry order."""
    return tuple(task for task in tasks_named(config.tasks) if task.graph == graph)


def parity_tasks(config: ModelConfig) -> tuple[str, ...]:
    """The tasks (slugs) the serving check must measure for a version with this config."""
    return tuple(task.slug for task in tasks_named(config.tasks) if task.parity)


class OnnxExportError(RuntimeError):
    """The model could not be exported or quantised; the message says which step failed."""


# --- export ----------------------------------------------------------------------------------------

class _ArticleGraph(nn.Module):
    """Everything inference computes per text in one encoder pass (JointModel.forward without losses)."""

    def __init__(self, model: JointModel) -> None:
        super().__init__()
        self.model = model
        self.tasks = graph_tasks(model.config, "article")

    def forward(self, input_ids: Tensor, attention_mask: Tensor, shape_ids: Tensor,
                source_ids: Tensor) -> tuple[Tensor, ...]:
        states = self.model.encoder(input_ids, attention_mask, shape_ids)  # (B, T, H)
        pooled = mean_pool(states, attention_mask)  # (B, H)
        batch = Batch(input_ids, attention_mask, shape_ids, source_ids, entity_token_mask=torch.zeros(0),
                      entity_mask=torch.zeros(0, dtype=torch.bool))  # article heads read no entity slots
        shared = SharedStates(states, pooled, batch)
        return (*(self.model.head(task).run(shared) for task in self.tasks), states, pooled)


class _EntityGraph(nn.Module):
    """The entity-level heads, run per entity slot on the article graph's states."""

    def __init__(self, model: JointModel) -> None:
        super().__init__()
        self.model = model
        self.tasks = graph_tasks(model.config, "entity")

    def forward(self, sequence_output: Tensor, pooled: Tensor, entity_token_mask: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model.head(task)(sequence_output, pooled, entity_token_mask)  # (B, E, C)
                     for task in self.tasks)


def weights_sha256(version_path: Path) -> str:
    from model.serving.registry import WEIGHTS_FILE

    digest = hashlib.sha256()
    with (version_path / WEIGHTS_FILE).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _example_inputs(model: JointModel) -> tuple[Tensor, ...]:
    """Two texts of seven tokens: sizes > 1 so the exporter cannot specialise the dynamic axes to 1."""
    input_ids = torch.tensor([[101, 7592, 2088, 2003, 2204, 1012, 102]] * 2)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 5:] = 0  # a padded row, so the mask path is traced as used
    shape_ids = torch.full_like(input_ids, 2)
    source_ids = torch.zeros(2, dtype=torch.long)
    return input_ids, attention_mask, shape_ids, source_ids


class _OnnxRuntimeInfo(logging.Filter):
    """Drops onnxruntime's INFO lines on the root logger: its quantiser names every tensor it leaves alone
    (some forty lines a model, in `make run`'s terminal); its warnings still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or "onnxruntime" not in record.pathname


def export_onnx(model: JointModel, target_dir: Path) -> dict[str, Any]:
    """Export both graphs into `target_dir` (fp32), quantise the article graph to int8; return export info.

    The encoder is switched to eager attention for the export: the SDPA path
    builds its mask with ops the TorchScript exporter handles less well, and
    the two compute the same thing.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    bert_config = model.encoder.bert.config
    previous_attention = getattr(bert_config, "_attn_implementation", None)
    bert_config._attn_implementation = "eager"
    fp32_path = target_dir / "model.fp32.onnx"
    inputs = _example_inputs(model)
    # .eval() on the wrappers too: the exporter restores each wrapper's original (training)
    # mode afterwards, recursively, which would switch dropout on in the caller's model
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            # tracing warns about Python-side shape checks in transformers; the dynamic axes are verified by tests
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            article_tasks = graph_tasks(model.config, "article")
            sequence_axes = {0: "batch", 1: "sequence"}
            torch.onnx.export(
                _ArticleGraph(model).eval(), inputs, str(fp32_path), input_names=list(ARTICLE_INPUTS),
                output_names=[task.output_name for task in article_tasks] + list(SHARED_OUTPUTS),
                opset_version=OPSET, dynamo=False,
                dynamic_axes={"input_ids": sequence_axes, "attention_mask": sequence_axes,
                              "shape_ids": sequence_axes, "source_ids": {0: "batch"},
                              **{task.output_name: sequence_axes if task.level == "token" else {0: "batch"}
                                 for task in article_tasks},
                              "sequence_output": sequence_axes, "pooled": {0: "batch"}})
            hidden = model.encoder.hidden_size
            entity_inputs = (torch.zeros(2, 7, hidden), torch.zeros(2, hidden), torch.zeros(2, 3, 7))
            entity_tasks = graph_tasks(model.config, "entity")
            torch.onnx.export(
                _EntityGraph(model).eval(), entity_inputs, str(target_dir / ENTITY_FILE),
                input_names=list(ENTITY_INPUTS),
                output_names=[task.output_name for task in entity_tasks], opset_version=OPSET, dynamo=False,
                dynamic_axes={"sequence_output": sequence_axes, "pooled": {0: "batch"},
                              "entity_token_mask": {0: "batch", 1: "entities", 2: "sequence"},
                              **{task.output_name: {0: "batch", 1: "entities"} for task in entity_tasks}})
    except Exception as error:  # noqa: BLE001 - the exporter raises many types; name the step
        raise OnnxExportError(f"torch.onnx.export (opset {OPSET}) failed: {error}") from error
    finally:
        bert_config._attn_implementation = previous_attention
    quantize_int8(fp32_path, target_dir / MODEL_FILE)
    fp32_path.unlink()
    import onnxruntime

    return {"opset": OPSET, "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "weight_type": QUANTIZATION, "files": [MODEL_FILE, ENTITY_FILE]}


QUANTIZATION = "QInt8, per channel (dynamic quantisation)"


def quantize_int8(fp32_path: Path, int8_path: Path) -> Path:
    """Dynamically quantise an fp32 ONNX graph to int8 weights, the way every export here is quantised
    (the joint model's article graph, and the BERT-base baselines of `finsent bench model`)."""
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    prepared_path = Path(int8_path).with_name(Path(int8_path).stem + ".prepared.onnx")
    quiet = _OnnxRuntimeInfo()
    logging.getLogger().addFilter(quiet)
    try:
        # shape inference + graph fusions first, as onnxruntime's quantisation guide asks
        quant_pre_process(str(fp32_path), str(prepared_path), skip_symbolic_shape=True)
        # per-channel scales: one per output column keeps the sentence vectors' cosine to the
        # fp32 model at ~0.998 where a single per-tensor scale gives ~0.97 (same file size)
        quantize_dynamic(str(prepared_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    except Exception as error:  # noqa: BLE001
        raise OnnxExportError(f"onnxruntime quantize_dynamic (QInt8) failed: {error}") from error
    finally:
        logging.getLogger().removeFilter(quiet)
        prepared_path.unlink(missing_ok=True)
    return Path(int8_path)


def ensure_onnx_export(registry_dir: Path, version: str, model: JointModel | None = None) -> Path:
    """The version's `onnx/` folder, exported now if missing or stale; written atomically."""
    from model.serving.registry import load_model, version_dir

    path = version_dir(Path(registry_dir), version)
    onnx_dir = path / ONNX_DIR
    sha = weights_sha256(path)
    if _export_is_current(onnx_dir, sha):
        return onnx_dir
    if model is None:
        model, _ = load_model(Path(registry_dir), version)
    tmp = path / f".{ONNX_DIR}.tmp-{secrets.token_hex(4)}"
    try:
        info = export_onnx(model, tmp)
        (tmp / EXPORT_INFO_FILE).write_text(json.dumps({**info, "weights_sha256": sha}, indent=2), encoding="utf-8")
        if onnx_dir.exists():  # stale: move it aside first, so the rename below is one step
            stale = path / f".{ONNX_DIR}.stale-{secrets.token_hex(4)}"
            os.rename(onnx_dir, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, onnx_dir)
        except OSError:  # another process finished first: use theirs when it is current
            if not _export_is_current(onnx_dir, sha):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to %s", version, onnx_dir)
    return onnx_dir


def _export_is_current(onnx_dir: Path, sha: str) -> bool:
    try:
        info = json.loads((onnx_dir / EXPORT_INFO_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return info.get("weights_sha256") == sha and all((onnx_dir / f).is_file() for f in (MODEL_FILE, ENTITY_FILE))


# --- the serving check: which backend FINSENT_MODEL_BACKEND=auto uses ------------------------------

def parity_verdict(agreement: dict[str, float], threshold: float = PARITY_THRESHOLD,
                   required: tuple[str, ...] = PARITY_TASKS) -> tuple[bool, str]:
    """(passed, reason): every required task (the version's `parity_tasks`) measured and at or above the threshold."""
    missing = [task for task in required if task not in agreement]
    failing = {task: value for task, value in agreement.items() if value < threshold}
    if missing:
        return False, f"no dev data to check {', '.join(missing)}"
    if failing:
        return False, ", ".join(f"{task} agreement {value:.4f} < {threshold}" for task, value in failing.items())
    return True, f"every task's agreement >= {threshold} (lowest: {min(agreement, key=agreement.__getitem__)} " \
                 f"{min(agreement.values()):.4f})"


def write_parity_report(onnx_dir: Path, report: dict[str, Any]) -> Path:
    """Save the report next to the export it judges (atomically: a worker may be reading it)."""
    info = json.loads((Path(onnx_dir) / EXPORT_INFO_FILE).read_text(encoding="utf-8"))
    path = Path(onnx_dir) / PARITY_FILE
    tmp = path.with_name(f".{PARITY_FILE}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps({**report, "weights_sha256": info["weights_sha256"]}, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_parity_report(registry_dir: Path, version: str) -> dict[str, Any] | None:
    """The version's parity report, or None when there is none for its current export. Cheap (two small
    reads, no hashing of the weights): the worker calls it between batches."""
    onnx_dir = Path(registry_dir) / version / ONNX_DIR
    try:
        report = json.loads((onnx_dir / PARITY_FILE).read_text(encoding="utf-8"))
        info = json.loads((onnx_dir / EXPORT_INFO_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return report if report.get("weights_sha256") == info.get("weights_sha256") else None


@dataclass(frozen=True)
class BackendChoice:
    backend: str  # "torch" or "onnx"
    reason: str  # for the log: why this backend
    pending: bool = False  # auto on CPU, but the version has no parity report yet


def _is_cpu(device: str) -> bool:
    return device == "cpu" or (device == "auto" and not torch.cuda.is_available())


def choose_backend(requested: str, device: str, registry_dir: Path, version: str) -> BackendChoice:
    """What serves `version`: FINSENT_MODEL_BACKEND torch/onnx as asked; auto = onnx on CPU when the
    parity report passes, else torch (on CUDA, without a report, or naming the task that failed)."""
    if requested in ("torch", "onnx"):
        return BackendChoice(requested, f"FINSENT_MODEL_BACKEND={requested}")
    if requested != "auto":
        raise ValueError(f"model backend must be auto, torch or onnx, not {requested!r}")
    if not _is_cpu(device):
        return BackendChoice("torch", "auto on CUDA: torch (the int8 export is a CPU path)")
    report = read_parity_report(registry_dir, version)
    if report is None:
        return BackendChoice("torch", f"auto: {version} has no int8 parity report yet "
                                      f"(`finsent models export --model {version}` makes one)", pending=True)
    if report.get("passed"):
        return BackendChoice("onnx", f"auto on CPU: int8 parity passed ({report.get('reason', '')})")
    return BackendChoice("torch", f"auto: int8 parity failed for {version}: {report.get('reason', 'unknown')}; "
                                  "serving torch")


def needs_parity_report(requested: str, device: str, registry_dir: Path, version: str) -> bool:
    """True when auto would serve int8 on this device but the version has no parity report yet."""
    return requested == "auto" and _is_cpu(device) and read_parity_report(registry_dir, version) is None


# --- inference -------------------------------------------------------------------------------------

def make_session(path: Path, threads: int):  # noqa: ANN201
    """A CPU InferenceSession; threads do not spin while idle (the machine is shared, see docs/model.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class _EntityGraphSession:
    """Callable like EntitySentimentHead: (states, pooled, mask) tensors -> entity-sentiment logits;
    `outputs` gives every entity-level task's logits by output name."""

    def __init__(self, session) -> None:  # noqa: ANN001
        self.session = session

    def outputs(self, states: Tensor, pooled: Tensor, entity_token_mask: Tensor,
                names: list[str] | None = None) -> list[Tensor]:
        feeds = {"sequence_output": _numpy(states, np.float32), "pooled": _numpy(pooled, np.float32),
                 "entity_token_mask": _numpy(entity_token_mask, np.float32)}
        return [torch.from_numpy(values) for values in self.session.run(names, feeds)]

    def __call__(self, states: Tensor, pooled: Tensor, entity_token_mask: Tensor) -> Tensor:
        return self.outputs(states, pooled, entity_token_mask, ["entity_sentiment_logits"])[0]


def _numpy(tensor: Tensor, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().cpu().numpy().astype(dtype, copy=False))


class OnnxJointModel:
    """The inference surface of JointModel, served by ONNX Runtime on CPU.

    Only the BIO transition masks of the tagger stay in torch (for Viterbi
    decoding); the encoder weights are not kept in memory.
    """

    def __init__(self, onnx_dir: Path, config: ModelConfig, n_parameters: int, threads: int = 1) -> None:
        self.config = config
        self.onnx_dir = Path(onnx_dir)
        self.session = make_session(self.onnx_dir / MODEL_FILE, threads)
        self.entity_sentiment_head = _EntityGraphSession(make_session(self.onnx_dir / ENTITY_FILE, threads))
        self.article_tasks = graph_tasks(config, "article")
        self.entity_tasks = graph_tasks(config, "entity")
        # decode() reads only the transition masks; hidden size 1 keeps the unused classifier tiny
        self.entity_tagger = EntityTagger(1, config.n_ner_tags, config.n_shapes, 1, 0.0).eval()
        self._n_parameters = n_parameters

    @classmethod
    def load(cls, registry_dir: Path, version: str, threads: int = 1) -> OnnxJointModel:
        """Export the version if needed, then open its sessions."""
        from model.serving.registry import load_model

        model, _ = load_model(Path(registry_dir), version)
        onnx_dir = ensure_onnx_export(Path(registry_dir), version, model)
        return cls(onnx_dir, model.config, model.num_parameters(), threads)

    def to(self, device: torch.device | str) -> OnnxJointModel:
        if torch.device(device).type != "cpu":
            raise ValueError(f"the ONNX backend runs on CPU only, not {device}")
        return self

    def eval(self) -> OnnxJointModel:
        return self

    def num_parameters(self) -> int:
        return self._n_parameters

    def __call__(self, batch: Batch) -> JointOutput:
        feeds = {"input_ids": _numpy(batch.input_ids, np.int64),
                 "attention_mask": _numpy(batch.attention_mask, np.int64),
                 "shape_ids": _numpy(batch.shape_ids, np.int64), "source_ids": _numpy(batch.source_ids, np.int64)}
        *article, states, pooled = (torch.from_numpy(a) for a in self.session.run(None, feeds))
        logits = {task.name: values for task, values in zip(self.article_tasks, article, strict=True)}
        entity = self.entity_sentiment_head.outputs(states, pooled, batch.entity_token_mask)
        logits.update({task.name: values for task, values in zip(self.entity_tasks, entity, strict=True)})
        return JointOutput(logits=logits, sequence_output=states, pooled=pooled)


__all__ = ["OnnxJointModel", "OnnxExportError", "ensure_onnx_export", "export_onnx", "make_session", "quantize_int8",
           "weights_sha256", "ONNX_DIR", "MODEL_FILE", "ENTITY_FILE", "PARITY_FILE", "PARITY_THRESHOLD",
           "BackendChoice", "choose_backend", "needs_parity_report", "parity_verdict", "read_parity_report",
           "write_parity_report"]
