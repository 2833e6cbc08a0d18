"""One activity taxonomy across datasets, so multi-source training shares labels.

Single-source training keeps the source's native labels. With several sources, each native
label maps to a canonical name where one exists; a label with no canonical match keeps its
identity as `source:label` (it is still learned, just not shared).
"""

from __future__ import annotations

CANONICAL = ("walking", "stairs_up", "stairs_down", "sitting", "standing", "lying",
             "running", "cycling", "transition")

_MAP: dict[str, str] = {
    # UCI HAPT / HAR
    "WALKING": "walking", "WALKING_UPSTAIRS": "stairs_up", "WALKING_DOWNSTAIRS": "stairs_down",
    "SITTING": "sitting", "STANDING": "standing", "LAYING": "lying",
    "STAND_TO_SIT": "transition", "SIT_TO_STAND": "transition", "SIT_TO_LIE": "transition",
    "LIE_TO_SIT": "transition", "STAND_TO_LIE": "transition", "LIE_TO_STAND": "transition",
    # PAMAP2
    "lying": "lying", "sitting": "sitting", "standing": "standing", "walking": "walking",
    "running": "running", "cycling": "cycling", "ascending stairs": "stairs_up",
    "descending stairs": "stairs_down",
    # Common short names in users' own CSV labels
    "walk": "walking", "sit": "sitting", "stand": "standing", "lie": "lying", "lay": "lying",
    "run": "running", "jog": "running", "bike": "cycling", "upstairs": "stairs_up", "downstairs": "stairs_down",
    # WISDM v1.1
    "Walking": "walking", "Jogging": "running", "Upstairs": "stairs_up", "Downstairs": "stairs_down",
    "Sitting": "sitting", "Standing": "standing",
}


def canonical_label(source: str, label: str) -> str:
    return _MAP.get(label) or _MAP.get(label.lower()) or f"{source}:{label}"
