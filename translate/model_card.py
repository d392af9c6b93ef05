"""A model folder's card (``README.md``), its figures read from the folder's own files so that
none is typed by hand: the architecture and settings (``config.json``), the training's length,
hours and machine and the scores taken while it trained (``metrics.jsonl``), and the final
scores (``evaluation.json``, once ``translate.evaluate MODEL --out MODEL/evaluation.json`` has
scored these very weights). The front matter is Hugging Face's model-card metadata.

The figures sit between two marker lines; :func:`refresh_card` rewrites what lies between them
and the front matter (machine-read metadata, with the final scores once there are some), so the
author's title and prose around them (why this recipe, what it was compared with) stay.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from translate.errors import ConfigError
from translate.evaluation.record import EVALUATION_FILE
from translate.io.fileio import atomic_write, file_sha256, read_json_if_exists
from translate.io.run_layout import METRICS_FILE
from translate.modeling.checkpoint import STATE, WEIGHTS, Checkpoint, read_checkpoint

CARD_FILE = "README.md"
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
# (key in evaluation.json, model-index type, name, decimals kept)
METRICS = [("fid", "fid", "FID", 2), ("kid_mean", "kid", "KID", 4), ("conditional_accuracy", "accuracy",
           "conditional accuracy", 4)]
BEGIN = "<!-- translate.card: the figures below are read from this folder's files; "
BEGIN += "python -m translate.card rewrites them -->"
END = "<!-- translate.card: end -->"


def refresh_card(folder: Path, strict: bool = True) -> str:
    """Write ``folder``'s card, or rewrite the front matter and the figures of the one it has;
    returns what was done. A card without a block of figures (written by hand) is refused, or
    with ``strict`` False left as it is."""
    card, model = folder / CARD_FILE, _model_folder(folder)
    figures = f"{BEGIN}\n{card_figures(folder, model)}{END}\n"
    if not card.exists():
        text = f"{front_matter(folder, model)}# {title(model)}\n\n{figures}"
        atomic_write(card, lambda tmp: tmp.write_text(text))
        return f"wrote {card}"
    text = card.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        if not strict:
            return f"kept {card}: it has no block of figures to rewrite"
        raise ConfigError(f"{card} has no single block of figures to rewrite: put the line {BEGIN!r} and, below it, "
                          f"{END!r} where they should go (or move the card aside to get a new one)")
    body = FRONT_MATTER.sub("", text, count=1)
    before, rest = body.split(BEGIN, 1)
    after = rest.split(END, 1)[1].removeprefix("\n")
    atomic_write(card, lambda tmp: tmp.write_text(front_matter(folder, model) + before + figures + after))
    return f"rewrote the front matter and the figures in {card}"


def _model_folder(folder: Path) -> Checkpoint:
    """``folder`` read as a model folder (config and weights checked), never a run or a checkpoint."""
    model = read_checkpoint(folder)
    if model.path.resolve() != folder.resolve() or (folder / STATE).exists():
        raise ConfigError(f"{folder} is a training run or checkpoint, not a model folder: write one with python -m "
                          f"translate.pack {folder} --out models/NAME (it writes the card too)")
    return model


def _directions(model: Checkpoint) -> list[str]:
    """The directions of a translation model's generators (AtoB, BtoA), by their weights' names;
    none for a model that draws images."""
    return [d for d in ("AtoB", "BtoA") if model.has_weights(f"generator_{d}")]


def _domains(model: Checkpoint) -> tuple[str, str]:
    return model.model.get("domain_a", "A"), model.model.get("domain_b", "B")


def _dataset(model: Checkpoint) -> str:
    a, b = _domains(model)
    return model.train.get("dataset") or f"{a}2{b}"


def title(model: Checkpoint) -> str:
    directions = _directions(model)
    if not directions:
        return f"{model.family} on {_dataset(model)}"
    a, b = _domains(model)
    return f"{model.family}: {a} ↔ {b}" if len(directions) == 2 else f"{model.family}: {a} → {b}"


def front_matter(folder: Path, model: Checkpoint) -> str:
    """Hugging Face's model-card metadata; with the final scores (``model-index``) once
    ``evaluation.json`` holds scores of these weights."""
    task = "image-to-image" if _directions(model) else "unconditional-image-generation"
    meta: dict[str, Any] = {"license": "mit", "library_name": "translate-gan", "pipeline_tag": task,
                            "tags": ["gan", model.family, "onnx"], "datasets": [_dataset(model)]}
    results = []
    for name, entry in _final_scores(folder).items():
        metrics = [{"type": kind, "name": label, "value": round(float(entry[key]), decimals)}
                   for key, kind, label, decimals in METRICS if _is_number(entry.get(key))]
        scored = name.replace("_to_", " → ") if _directions(model) else "Image generation"
        results.append({"task": {"type": task, "name": scored},
                        "dataset": {"type": _dataset(model), "name": _dataset(model), "split": "test"},
                        "metrics": metrics})
    if results:
        meta["metrics"] = list(dict.fromkeys(m["type"] for r in results for m in r["metrics"]))
        meta["model-index"] = [{"name": folder.name, "results": results}]
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def card_figures(folder: Path, model: Checkpoint) -> str:
    """The card's generated sections, in Markdown."""
    records = _records(folder / METRICS_FILE)
    sections = [_use(folder, model), _table("Architecture (`config.json`)", model.model),
                _training(model, records), _scores_during_training(records), _evaluation(folder),
                _data_and_license(model)]
    return "".join(s for s in sections if s)


def _shown(folder: Path) -> str:
    """The folder as the card's commands name it: as given, or ``models/NAME`` for an absolute path."""
    return f"models/{folder.name}" if folder.is_absolute() else folder.as_posix()


def _use(folder: Path, model: Checkpoint) -> str:
    name = _shown(folder)
    directions = _directions(model)
    if not directions:
        lines = [f"python -m translate.sample {name} --n 64 --seed 0 --out grid.png",
                 f"python -m translate.export {name} --out {folder.name}.onnx"]
    else:
        a, b = _domains(model)
        lines = [f"python -m translate.apply {name} --input photos/ --output out/ --direction {d}"
                 f"   # {a if d == 'AtoB' else b} -> {b if d == 'AtoB' else a}" for d in directions]
        lines += [f"python -m translate.export {name} --direction {d} --out {folder.name}-{d}.onnx" for d in directions]
    return "## Use\n\n```bash\n" + "\n".join(lines) + "\n```\n\n"


def _data_and_license(model: Checkpoint) -> str:
    return (f"## Data and license\n\nThe weights are MIT-licensed, as translate-gan is. They were trained on "
            f"{_dataset(model)}, which keeps its own terms (translate-gan's `NOTICE.md` names them).\n\n")


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill is not a reason to lose the card
        if isinstance(record, dict):
            records.append(record)
    return records


def _training(model: Checkpoint, records: list[dict[str, Any]]) -> str:
    train = dict(model.train)
    settings = {**{k: v for k, v in train.items() if k != "hyper"}, **train.get("hyper", {})}
    epochs = [r for r in records if "images_per_s" in r]
    if not epochs:
        return _table("Training settings", settings)
    last = epochs[-1]
    done = {"epochs": f"{last['epoch']}" + ("" if last.get("epoch_complete", True) else " (the last one in part)"),
            "steps": f"{last['step']:,}"}
    if "train_hours" in last:
        since = last.get("clock_from_step", 0)
        timed = f" (timed from step {since:,})" if since else ""
        done["training hours"] = f"{last['train_hours']:.2f} wall, {last['cpu_hours']:.2f} CPU{timed}"
    machines = list(dict.fromkeys(r["machine"] for r in epochs if r.get("machine")))
    if machines:
        done["machine"] = "; ".join(machines)
    return _table("Training (`metrics.jsonl`)", done) + _table("Training settings", settings)


def _scores_during_training(records: list[dict[str, Any]]) -> str:
    scored = [r for r in records if isinstance(r.get("eval"), dict)]
    if not scored:
        return ""
    names = list(dict.fromkeys(k for r in scored for k in r["eval"]))
    timed = any("train_hours" in r for r in scored)
    header = ["epoch", "step", *(["training hours"] if timed else []), *names]
    rows = [[r["epoch"], f"{r['step']:,}", *([_number(r.get("train_hours"))] if timed else []),
             *(_number(r["eval"].get(n)) for n in names)] for r in scored]
    return "## Scores during training (`metrics.jsonl`)\n\n" + _markdown(header, rows) + "\n"


def _final_scores(folder: Path) -> dict[str, dict[str, Any]]:
    """evaluation.json's scores of these very weights, by what was scored (a translation model:
    each direction, e.g. ``horse_to_zebra``; a digit model: ``model``); empty when it has none."""
    record = read_json_if_exists(folder / EVALUATION_FILE)
    if not isinstance(record, dict) or record.get("weights_sha256") != file_sha256(folder / WEIGHTS):
        return {}
    scores = record["scores"] if isinstance(record.get("scores"), dict) else record
    return {k: v for k, v in scores.items() if isinstance(v, dict) and _is_number(v.get("fid"))} or (
        {"model": scores} if _is_number(scores.get("fid")) else {})


def _evaluation(folder: Path) -> str:
    name = _shown(folder)
    command = (f"`python -m translate.evaluate {name} --out {name}/{EVALUATION_FILE}`, then "
               f"`python -m translate.card {name}`")
    entries = _final_scores(folder)
    if not entries:
        stale = (folder / EVALUATION_FILE).exists()
        why = f"`{EVALUATION_FILE}` scored other weights than this folder's" if stale else "Not scored yet"
        return f"## Evaluation\n\n{why}: {command}.\n\n"
    metrics = [m for m in ("fid", "kid_mean", "kid_std", "conditional_accuracy", "l1", "psnr", "ssim")
               if any(m in e for e in entries.values())]
    rows = [[name.replace("_to_", " → "), *(_number(e.get(m)) for m in metrics)] for name, e in entries.items()]
    text = "## Evaluation (`evaluation.json`)\n\n" + _markdown(["scored", *metrics], rows) + "\n"
    protocol = next((e["protocol"] for e in entries.values() if isinstance(e.get("protocol"), dict)), None)
    record = read_json_if_exists(folder / EVALUATION_FILE)
    protocol = protocol or record.get("protocol") or (record.get("scores") or {}).get("protocol")
    if isinstance(protocol, dict):
        text += _table("Protocol", protocol, level=3)
    return text


def _table(heading: str, values: dict[str, Any], level: int = 2) -> str:
    rows = [[key, _value(value)] for key, value in values.items()]
    return f"{'#' * level} {heading}\n\n" + _markdown(["setting", "value"], rows) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _number(value: Any) -> str:
    if not _is_number(value) or isinstance(value, int):
        return "" if value is None else str(value)
    return f"{value:.4g}"


def _markdown(header: list[str], rows: list[list[Any]]) -> str:
    escape = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
