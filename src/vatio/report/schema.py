"""The JSON schema of `vatio report --format json`, shipped in the package for pipelines."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The schema as a dict (`vatio/report/schema.json`)."""
    text = Path(__file__).with_name("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validation_errors(data: Any) -> list[str]:
    """Every way `data` breaks the schema, as 'path: message' lines (needs `jsonschema`)."""
    import jsonschema

    validator_class = jsonschema.validators.validator_for(report_schema())
    validator = validator_class(report_schema(), format_checker=validator_class.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
