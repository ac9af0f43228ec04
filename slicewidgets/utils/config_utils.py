"""Merge settings into nested ``NamedTuple`` configs (Snorkel's ``snorkel.utils.config_utils``).

Used by the :class:`~slicewidgets.classification.Trainer` for its settings; torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["config_to_dict", "merge_config"]


def _is_config(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def merge_config(config: Any, updates: Mapping[str, Any]) -> Any:
    """A copy of the named tuple ``config`` with ``updates`` applied, nested dicts merged.

    Raises
    ------
    ValueError
        If ``updates`` names a field that ``config`` does not have.

    Examples
    --------
    >>> from slicewidgets.types import Config
    >>> class AdamConfig(Config):
    ...     amsgrad: bool = False
    >>> class TrainConfig(Config):
    ...     lr: float = 0.01
    ...     adam_config: AdamConfig = AdamConfig()
    >>> cfg = merge_config(TrainConfig(), {"lr": 0.1, "adam_config": {"amsgrad": True}})
    >>> cfg.lr, cfg.adam_config.amsgrad
    (0.1, True)
    >>> merge_config(TrainConfig(), {"foo": 1})
    Traceback (most recent call last):
    ...
    ValueError: Got unexpected field names: ['foo']. Valid names: ['lr', 'adam_config'].
    """
    unknown = [key for key in updates if key not in config._fields]
    if unknown:
        raise ValueError(
            f"Got unexpected field names: {unknown}. Valid names: {list(config._fields)}."
        )
    changes = {}
    for key, value in updates.items():
        current = getattr(config, key)
        if _is_config(current) and isinstance(value, Mapping):
            changes[key] = merge_config(current, value)
        else:
            changes[key] = value
    return config._replace(**changes)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Nested plain dicts from nested named tuples (safe for ``torch.load(weights_only=True)``).

    Examples
    --------
    >>> from slicewidgets.types import Config
    >>> class LogConfig(Config):
    ...     log_dir: str = "logs"
    ...     run_name: str | None = None
    >>> config_to_dict(LogConfig())
    {'log_dir': 'logs', 'run_name': None}
    """
    out = {}
    for key, value in config._asdict().items():
        out[key] = config_to_dict(value) if _is_config(value) else value
    return out
