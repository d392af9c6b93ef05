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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from translate.errors import ConfigError, TranslateError
from translate.evaluation.fidelity import FIDELITY_METRICS
from translate.evaluation.record import EVALUATION_FILE, scores_of
from translate.io.fileio import atomic_write, file_sha256, open_regular, read_json_if_exists
from translate.io.run_layout import METRICS_FILE, read_metrics
from translate.modeling.checkpoint import STATE, WEIGHTS, Checkpoint, read_checkpoint
from translate.modeling.half_storage import FP16_STORAGE

CARD_FILE = "README.md"
# A model folder's picture, which its card shows: JPEG for photos (a quarter of the PNG's bytes,
# which every clone downloads), PNG for digits (sharp pixels).
SAMPLES_FILES = ("samples.jpg", "samples.png")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
# (key in evaluation.json, model-index type, name, decimals kept)
METRICS = [("fid", "fid", "FID", 2), ("kid_mean", "kid", "KID", 4), ("conditional_accuracy", "accuracy",
           "conditional accuracy", 4)]
SCORE_KEYS = ("metrics", "model-index")  # the front matter's scores: only ever this folder's own
BEGIN = "<!-- translate.card: the figures below are read from this folder's files; "
BEGIN += "python -m translate.card rewrites them -->"
END = "<!-- translate.card: end -->"


def refresh_card(folder: Path, strict: bool = True) -> str:
    """Write ``folder``'s card, or rewrite the front matter and the figures of the one it has;
    returns what was done. A card without a block of figures (written by hand), or one that
    cannot be read, is refused, or with ``strict`` False (pack, which has replaced the weights
    already) left as it is; a front matter YAML cannot read is refused, or kept as it is while
    the figures are rewritten."""
    card, facts = folder / CARD_FILE, _Facts.read(folder)
    figures = f"{BEGIN}\n{card_figures(facts)}{END}\n"
    if not card.exists():
        text = f"{front_matter(facts)}# {title(facts)}\n\n{figures}"
        atomic_write(card, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return f"wrote {card}"
    try:
        text = _read_card(card)
    except TranslateError as exc:
        if not strict:
            return f"kept {card}: {exc}"
        raise
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        if not strict:
            return f"kept {card}: it has no block of figures to rewrite"
        raise ConfigError(f"{card} has no single block of figures to rewrite: put the line {BEGIN!r} and, below it, "
                          f"{END!r} where they should go (or move the card aside to get a new one)")
    body = FRONT_MATTER.sub("", text, count=1)
    before, rest = body.split(BEGIN, 1)
    after = rest.split(END, 1)[1].removeprefix("\n")
    try:
        meta, done = front_matter(facts, _authors_front_matter(text, card)), "the front matter and the figures"
    except ConfigError as exc:
        if strict:
            raise
        meta, done = text[: len(text) - len(body)], f"the figures (kept the front matter as it was: {exc})"
    atomic_write(card, lambda tmp: tmp.write_text(meta + before + figures + after, encoding="utf-8"))
    return f"rewrote {done} in {card}"


def _read_card(card: Path) -> str:
    """The card's text (UTF-8, as written); a card that is not a regular file or not UTF-8 is a
    ConfigError naming the fix, not a traceback."""
    fix = "save it as UTF-8 text, or move it aside to get a new card"
    try:
        with open_regular(card, fix) as file:
            return file.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{card} is not UTF-8 text ({exc.reason} at byte {exc.start}): {fix}") from None


@dataclass(frozen=True)
class _Facts:
    """What the card is made of, each read once from the model folder."""

    folder: Path
    model: Checkpoint
    directions: list[str]  # a translation model's generators (AtoB, BtoA); none for one that draws images
    final: dict[str, dict[str, Any]]  # evaluation.json's scores of these very weights, by what was scored
    protocol: dict[str, Any] | None  # and how they were taken
    unscored_why: str  # without final scores: evaluation.json is damaged, scored other weights, or is not there
    records: list[dict[str, Any]]  # metrics.jsonl
    origin: dict[str, str]  # where in the run the weights come from (pack's source_step, ...), if known

    @classmethod
    def read(cls, folder: Path) -> _Facts:
        """``folder`` read as a model folder (config and weights checked), never a run or a checkpoint."""
        if folder.is_file():
            raise ConfigError(f"{folder} is a file: pass the model folder that holds it, {folder.parent}")
        model = read_checkpoint(folder)
        if model.path.resolve() != folder.resolve() or (folder / STATE).exists():
            raise ConfigError(f"{folder} is a training run or checkpoint, not a model folder: write one with python "
                              f"-m translate.pack {folder} --out models/NAME (it writes the card too)")
        scores = scores_of(folder, file_sha256(folder / WEIGHTS))
        final = {k: v for k, v in scores.items() if isinstance(v, dict) and _is_number(v.get("fid"))} or (
            {"model": scores} if _is_number(scores.get("fid")) else {})
        protocol = scores.get("protocol")
        from translate.families import get_family  # the family names its generators' weights

        family = get_family(model.family)
        directions = [d for d in family.directions if model.has_weights(family.generator_prefix(d))]
        return cls(folder, model, directions, final,
                   protocol if final and isinstance(protocol, dict) else None,
                   "" if final else _unscored_why(folder / EVALUATION_FILE), read_metrics(folder / METRICS_FILE),
                   model.provenance())

    @property
    def domains(self) -> tuple[str, str]:
        return self.model.model.get("domain_a", "A"), self.model.model.get("domain_b", "B")

    @property
    def dataset(self) -> str:
        """The training data's name: as the run recorded it (pix2pix's in its model config,
        the digit models' in their training settings), else the domains' (``horse2zebra``)."""
        return self.model.train.get("dataset") or self.model.model.get("dataset") or "2".join(self.domains)


def _unscored_why(record: Path) -> str:
    """Why a folder's card shows no final scores: a record that cannot be read is not one of
    other weights, and saying so sends the reader to the right fix."""
    if not record.exists():
        return "Not scored yet"
    if not isinstance(read_json_if_exists(record), dict):
        return f"`{EVALUATION_FILE}` is damaged (not a JSON object), so it was not read; score the folder again"
    return f"`{EVALUATION_FILE}` scored other weights than this folder's"


def title(facts: _Facts) -> str:
    """The card's heading: the family, and its domains with the way it translates (↔ or →)."""
    family = facts.model.family
    if not facts.directions:
        return f"{family} on {facts.dataset}"
    a, b = facts.domains
    return f"{family}: {a} ↔ {b}" if len(facts.directions) == 2 else f"{family}: {a} → {b}"


def _authors_front_matter(text: str, card: Path) -> dict[str, Any]:
    """The front matter a card has now (``{}`` where it has none); one that YAML cannot read, or
    that is not a mapping, is a ConfigError: rewriting it would drop what the author put there."""
    found = FRONT_MATTER.match(text)
    if not found:
        return {}
    fix = "fix it (or remove it to get the generated one), then python -m translate.card"
    try:
        meta = yaml.safe_load(found.group(0)[4:-4])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ConfigError(f"{card}'s front matter is not YAML{where}: {fix}") from None
    if meta is not None and not isinstance(meta, dict):
        raise ConfigError(f"{card}'s front matter is a {type(meta).__name__}, not a mapping of keys: {fix}")
    return meta or {}


def front_matter(facts: _Facts, authors: dict[str, Any] | None = None) -> str:
    """Hugging Face's model-card metadata; with the final scores (``model-index``) once
    ``evaluation.json`` holds scores of these weights. What an author added to a card's
    front matter before (more tags, a base model, a thumbnail) stays; the scores are always
    this folder's own, never an earlier model's left standing."""
    task = "image-to-image" if facts.directions else "unconditional-image-generation"
    meta: dict[str, Any] = {"license": "mit", "library_name": "translate-gan", "pipeline_tag": task,
                            "tags": ["gan", facts.model.family, "onnx"], "datasets": [facts.dataset]}
    results = []
    for name, entry in facts.final.items():
        metrics = [{"type": kind, "name": label, "value": round(float(entry[key]), decimals)}
                   for key, kind, label, decimals in METRICS if _is_number(entry.get(key))]
        scored = name.replace("_to_", " → ") if facts.directions else "Image generation"
        results.append({"task": {"type": task, "name": scored},
                        "dataset": {"type": facts.dataset, "name": facts.dataset, "split": "test"},
                        "metrics": metrics})
    if results:
        meta["metrics"] = list(dict.fromkeys(m["type"] for r in results for m in r["metrics"]))
        meta["model-index"] = [{"name": facts.folder.name, "results": results}]
    for key, value in (authors or {}).items():
        if key in ("tags", "datasets") and isinstance(value, list):
            meta[key] = list(dict.fromkeys([*meta[key], *value]))
        elif key not in meta and key not in SCORE_KEYS:
            meta[key] = value
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def card_figures(facts: _Facts) -> str:
    """The card's generated sections, in Markdown."""
    sections = [_samples(facts), _use(facts), _table("Architecture (`config.json`)", facts.model.model),
                _training(facts), _commands_run(facts), _scores_during_training(facts), _evaluation(facts),
                _data_and_license(facts)]
    return "".join(s for s in sections if s)


def _shown(folder: Path) -> str:
    """The folder as the card's commands name it: as given, or ``models/NAME`` for an absolute path."""
    return f"models/{folder.name}" if folder.is_absolute() else folder.as_posix()


def _use(facts: _Facts) -> str:
    folder, directions = facts.folder, facts.directions
    name = _shown(folder)
    if not directions:
        lines = [f"python -m translate.sample {name} --n 64 --seed 0 --out grid.png",
                 f"python -m translate.export {name} --out {folder.name}.onnx"]
    else:
        a, b = facts.domains
        ways = {"AtoB": (a, b), "BtoA": (b, a)}
        lines = [f"python -m translate.apply {name} --input {ways[d][0]}/ --output {ways[d][1]}/ --direction {d}"
                 f"   # {ways[d][0]} -> {ways[d][1]}" for d in directions]
        lines += [f"python -m translate.export {name} --direction {d} --out {folder.name}-{d}.onnx" for d in directions]
    return "## Use\n\n```bash\n" + "\n".join(lines) + "\n```\n\n"


def _samples(facts: _Facts) -> str:
    """The folder's picture, where it has one (``translate.sample MODEL ... --out MODEL/samples.jpg``);
    of two, the one drawn last."""
    pictures = [facts.folder / name for name in SAMPLES_FILES if (facts.folder / name).is_file()]
    if not pictures:
        return ""
    picture = max(pictures, key=lambda path: path.stat().st_mtime_ns)
    what = "Test images and their translations" if facts.directions else "Samples"
    return f"![{what}, drawn by python -m translate.sample]({picture.name})\n\n"


def _data_and_license(facts: _Facts) -> str:
    return (f"## Data and license\n\nThe weights are MIT-licensed, as translate-gan is. They were trained on "
            f"{facts.dataset}, which keeps its own terms (translate-gan's `NOTICE.md` names them).\n\n")


def _training(facts: _Facts) -> str:
    """How long the weights trained, and where: at the step they come from (pack records it),
    not at the end of a run that went on (a run's best generators are often not its last)."""
    train = dict(facts.model.train)
    settings = {**{k: v for k, v in train.items() if k != "hyper"}, **train.get("hyper", {})}
    settings_table = _table("Training settings", settings) if settings else ""
    epochs = [r for r in facts.records if "images_per_s" in r and isinstance(r.get("step"), int)]
    if not epochs:
        return settings_table
    end = epochs[-1]
    step = _weights_step(facts) or end["step"]
    done = {"epochs": _epochs_at(step, epochs), "steps": f"{step:,}"}
    reached = [r for r in epochs if r["step"] <= step]
    if reached and "train_hours" in reached[-1]:
        done["training time"] = _hours(reached[-1]) + (f" (as recorded at step {reached[-1]['step']:,})"
                                                         if reached[-1]["step"] != step else "")
    machines = list(dict.fromkeys(r["machine"] for r in epochs if r.get("machine")))
    if machines:
        done["machine"] = "; ".join(machines)
    if facts.origin.get("source_choice"):
        done["these weights"] = facts.origin["source_choice"]
    if facts.origin.get("weights"):  # pack's --fp16, or fp32
        stored = facts.origin["weights"]
        fp16 = "fp16 (half the download; the networks compute in fp32)"
        done["stored as"] = fp16 if stored == FP16_STORAGE else stored
    if end["step"] > step:
        hours = f"; {_hours(end)}" if "train_hours" in end else ""
        done["the run went on to"] = f"step {end['step']:,}: {_epochs_at(end['step'], epochs)} epochs{hours}"
    return _table("Training (`metrics.jsonl`)", done) + settings_table


def _commands_run(facts: _Facts) -> str:
    """The run's starts up to these weights' step, as its metrics.jsonl recorded them: each
    command as typed (``--resume`` included), with the toolkit commit it ran."""
    step = _weights_step(facts)
    # By the step each went on from; of two from the same checkpoint the later counts (the
    # earlier stopped before its next checkpoint, and its steps were trained again).
    starts = {r["start"]["from_step"]: r["start"] for r in facts.records if isinstance(r.get("start"), dict)
              and isinstance(r["start"].get("from_step"), int) and (step is None or r["start"]["from_step"] < step)}
    if not starts:
        return ""
    lines = []
    for start in starts.values():
        at = "from the start" if start["from_step"] == 0 else f"resumed at step {start['from_step']:,}"
        commit = f", toolkit {start['commit']}" if start.get("commit") else ""
        processes = start.get("processes", 1)
        under = f", under torchrun with {processes} processes" if isinstance(processes, int) and processes > 1 else ""
        lines += [f"# {at}, {start.get('time', 'time not recorded')}{commit}{under}", str(start.get("command", ""))]
    return "## Commands run (`metrics.jsonl`)\n\n```bash\n" + "\n".join(lines) + "\n```\n\n"


def _weights_step(facts: _Facts) -> int | None:
    step = facts.origin.get("source_step", "")
    return int(step) if step.isdigit() else None


def _epochs_at(step: int, epochs: list[dict[str, Any]]) -> str:
    """The epochs done by ``step``: a whole number, or with the part of the next as a decimal."""
    per_epoch = next((r["step"] // r["epoch"] for r in epochs if r.get("epoch_complete", True) and r.get("epoch")),
                     None)
    if per_epoch is None:  # no epoch completed yet: its length is not on record
        return f"under 1 ({step:,} steps)"
    whole, into = divmod(step, per_epoch)
    return f"{whole}" if not into else f"{step / per_epoch:.2f} ({whole} complete)"


def _hours(record: dict[str, Any]) -> str:
    """The run's clocks at ``record``: CPU-hours of the training process (its threads; not its
    loader workers or scoring), and wall-clock hours, which count pauses and a busy CPU's waits."""
    since = record.get("clock_from_step", 0)
    timed = f" (timed from step {since:,})" if since else ""
    return (f"{record['cpu_hours']:.2f} CPU-hours of the training process, {record['train_hours']:.2f} wall-clock "
            f"hours (pauses included){timed}")


def _scores_during_training(facts: _Facts) -> str:
    scored = [r for r in facts.records if isinstance(r.get("eval"), dict)]
    if not scored:
        return ""
    names = list(dict.fromkeys(k for r in scored for k in r["eval"]))
    timed = any("train_hours" in r for r in scored)
    step = _weights_step(facts)
    header = ["epoch", "step", *(["training hours"] if timed else []), *names]
    rows = [[f"**{r['epoch']}** (these weights)" if r.get("step") == step else r["epoch"], f"{r['step']:,}",
             *([_number(r.get("train_hours"))] if timed else []), *(_number(r["eval"].get(n)) for n in names)]
            for r in scored]
    return "## Scores during training (`metrics.jsonl`)\n\n" + _markdown(header, rows) + "\n"


def _evaluation(facts: _Facts) -> str:
    name = _shown(facts.folder)
    command = (f"`python -m translate.evaluate {name} --out {name}/{EVALUATION_FILE}`, then "
               f"`python -m translate.card {name}`")
    if not facts.final:
        return f"## Evaluation\n\n{facts.unscored_why}: {command}.\n\n"
    entries = facts.final
    metrics = [m for m in ("fid", "kid_mean", "kid_std", "conditional_accuracy", *FIDELITY_METRICS)
               if any(m in e for e in entries.values())]
    rows = [[name.replace("_to_", " → "), *(_number(e.get(m)) for m in metrics)] for name, e in entries.items()]
    text = "## Evaluation (`evaluation.json`)\n\n" + _markdown(["scored", *metrics], rows) + "\n"
    if facts.protocol is not None:
        text += _table("Protocol", facts.protocol, level=3)
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
