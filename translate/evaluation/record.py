"""A model folder's ``evaluation.json``: what ``translate.evaluate --out`` writes beside the
weights it scored, and what ``translate.export`` carries into the file's metadata, so that an
application (the demo) can say how good each model is without scoring it.

The record names the sha256 of the weights it scored. Scores are carried only when they
belong to the weights exported, so a folder packed again after it was scored never passes
on the old model's figures.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from translate.io.fileio import read_json_if_exists

EVALUATION_FILE = "evaluation.json"  # in a model folder: the scores of its weights


def scores_of(folder: Path, weights_sha256: str) -> dict[str, Any]:
    """The scores ``folder``'s record holds for the weights of that sha256; ``{}`` when there is
    no record or it scored other weights. A translator's record holds one entry per direction,
    keyed "<source>_to_<target>" (RUN/best's nests them under "scores", beside the best FID and
    its epoch); a sampler's, one set of scores, beside its protocol."""
    record = read_json_if_exists(folder / EVALUATION_FILE)
    if not isinstance(record, dict) or record.get("weights_sha256") != weights_sha256:
        return {}
    return record["scores"] if isinstance(record.get("scores"), dict) else record


def chosen_direction(folder: Path) -> str | None:
    """The direction whose FID kept ``folder``'s weights, where it is a run's ``best/`` (its
    record names the epoch whose scoring kept them, and that FID); None for any other folder."""
    return direction_chosen_in(read_json_if_exists(folder / EVALUATION_FILE))


def direction_chosen_in(record: Any) -> str | None:
    """:func:`chosen_direction` of a record already read."""
    if not isinstance(record, dict) or "epoch" not in record or not isinstance(record.get("scores"), dict):
        return None
    return next((v["direction"] for v in record["scores"].values()
                 if isinstance(v, dict) and "direction" in v and v.get("fid") == record.get("fid")), None)


def recorded_scores(folder: Path, weights_sha256: str, direction: str, chosen_by: str | None = None) -> dict[str, Any]:
    """``{"fid", "kid", "scored"}`` that ``folder``'s record holds for the weights of that sha256
    (for a translation model, its generator of ``direction``); ``{}`` when there is no record,
    it scored other weights, or it holds no finite FID for them. ``chosen_by``: the direction
    whose FID kept the weights among a run's scorings on the test sets (RUN/best), which
    "scored" says."""
    scores = scores_of(folder, weights_sha256)
    by_direction = [v for v in scores.values() if isinstance(v, dict) and "direction" in v]
    if by_direction:
        entries = [v for v in by_direction if v["direction"] == direction]
        if len(entries) != 1:
            return {}
        entry = entries[0]
        scored = f"{entry.get('translated', '?')} against {entry.get('real', '?')}"
    elif "fid" in scores:
        entry, scored = scores, _sampled(scores.get("protocol"))
    else:
        return {}
    fid, kid = entry.get("fid"), entry.get("kid_mean")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (fid, kid)):
        return {}
    chosen = None if chosen_by is None else (
        "weights kept as the lowest of a run's scorings on these sets" if chosen_by == direction
        else "weights kept for the other direction's lowest FID of a run's scorings on the test sets")
    return {"fid": float(fid), "kid": float(kid), "scored": scored + _departures(scores.get("protocol"), chosen)}


def _departures(protocol: Any, chosen: str | None = None) -> str:
    """What set these scores apart from the standard protocol (``chosen``: how the weights were
    chosen by scores on the test sets; codes drawn with the truncation trick; the Inception
    network run in bf16), so that a file's FID is not read as a plain one."""
    protocol = protocol if isinstance(protocol, dict) else {}
    notes = [chosen] if chosen else []
    latent = protocol.get("latent")
    if isinstance(latent, str) and "truncated at" in latent:
        notes.append("codes " + latent[latent.index("truncated at"):].split(" (")[0])
    precision = protocol.get("inception_precision")
    if isinstance(precision, str) and precision != "fp32":
        notes.append(f"Inception in {precision}")
    return f" ({'; '.join(notes)})" if notes else ""


def _sampled(protocol: Any) -> str:
    protocol = protocol if isinstance(protocol, dict) else {}
    return (f"{protocol.get('generated_images', '?')} generated images against "
            f"{protocol.get('real_images', '?')} of the {protocol.get('real_set', '?')}")
