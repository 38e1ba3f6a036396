"""The model card (README.md) written next to trained weights and pushed to the Hub with them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vton_zoo import get_spec

HIDDEN_ARGS = ("push_to_hub", "hub_private", "resume")


def model_card(stage_cls: type, args: argparse.Namespace, metrics: dict[str, float]) -> str:
    """Markdown with Hub front matter: method, paper, dataset, training arguments, metrics, licence, how to load."""
    from .stages import zoo_name

    name = zoo_name(stage_cls, args.layout)
    spec = get_spec(name)
    repo = args.hub_model_id or "OWNER/NAME"
    shown = {k: v for k, v in sorted(vars(args).items()) if k not in HIDDEN_ARGS}
    metric_lines = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items())) or "| (none) | |"
    return f"""---
library_name: vton-zoo
tags:
- virtual-try-on
- vton-zoo
- {name}
license: other
---

# {spec.title} ({name}), trained with vton-zoo

- Method: {spec.title}, stage `{stage_cls.name}` of the official recipe ({stage_cls.summary}).
- Paper: [{spec.paper}]({spec.paper_url}); official code: {spec.code_url}
- Dataset: `{args.layout}` layout at {args.size[0]}x{args.size[1]} (from `{args.data}`).
- Licence: the method's licence applies to these weights: {spec.license}. Check the dataset's licence too.

## Load

```python
import vton_zoo

model = vton_zoo.create_model("{name}", weights="hub:{repo}")
```

## Metrics (validation on the dataset's test split)

| metric | value |
|---|---|
{metric_lines}

## Training arguments

```json
{json.dumps(shown, indent=2, sort_keys=True, default=str)}
```

Trained with `python -m training {stage_cls.method} --stage {stage_cls.name}` (vton-zoo).
"""


def card_metadata(card: str) -> dict[str, Any]:
    """The YAML front matter's ``key: value`` lines (flat), for tests and sanity checks."""
    lines = card.split("---")[1].strip().splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if v.strip()}
