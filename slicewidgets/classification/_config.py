"""Trainer settings as (nested) named tuples, with Snorkel's field names and defaults.

``Trainer(**kwargs)`` merges its keyword arguments into :class:`TrainerConfig` with
:func:`merge_config`; nested settings are given as dicts, e.g.
``Trainer(optimizer_config={"adam_config": {"amsgrad": True}})``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from slicewidgets.utils.config_utils import config_to_dict, merge_config

__all__ = [
    "AdamOptimizerConfig",
    "AdamaxOptimizerConfig",
    "CheckpointerConfig",
    "ExponentialLRSchedulerConfig",
    "LRSchedulerConfig",
    "LogManagerConfig",
    "LogWriterConfig",
    "OptimizerConfig",
    "SGDOptimizerConfig",
    "StepLRSchedulerConfig",
    "TrainerConfig",
    "auto_setting",
    "config_to_dict",
    "merge_config",
]


class SGDOptimizerConfig(NamedTuple):
    """Settings of ``torch.optim.SGD``."""

    momentum: float = 0.9


class AdamOptimizerConfig(NamedTuple):
    """Settings of ``torch.optim.Adam``; ``fused=None`` uses the fused kernel when available."""

    amsgrad: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    fused: bool | None = None


class AdamaxOptimizerConfig(NamedTuple):
    """Settings of ``torch.optim.Adamax``."""

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


class OptimizerConfig(NamedTuple):
    """Settings of the three optimizers."""

    sgd_config: SGDOptimizerConfig = SGDOptimizerConfig()
    adam_config: AdamOptimizerConfig = AdamOptimizerConfig()
    adamax_config: AdamaxOptimizerConfig = AdamaxOptimizerConfig()


class ExponentialLRSchedulerConfig(NamedTuple):
    """Settings of the ``"exponential"`` learning-rate scheduler."""

    gamma: float = 0.9


class StepLRSchedulerConfig(NamedTuple):
    """Settings of the ``"step"`` learning-rate scheduler."""

    gamma: float = 0.9
    step_size: int = 5


class LRSchedulerConfig(NamedTuple):
    """Learning-rate warmup and scheduler settings.

    ``warmup_steps`` (in ``warmup_unit``, ``"batches"`` or ``"epochs"``) or
    ``warmup_percentage`` of all batches ramps the rate up linearly from 0; ``min_lr`` is a
    floor for the scheduled rate.
    """

    warmup_steps: float = 0
    warmup_unit: str = "batches"
    warmup_percentage: float = 0.0
    min_lr: float = 0.0
    exponential_config: ExponentialLRSchedulerConfig = ExponentialLRSchedulerConfig()
    step_config: StepLRSchedulerConfig = StepLRSchedulerConfig()


class LogManagerConfig(NamedTuple):
    """How often to evaluate on the valid split: every ``evaluation_freq`` ``counter_unit``
    (``"epochs"``, ``"batches"`` or ``"points"``)."""

    counter_unit: str = "epochs"
    evaluation_freq: float = 1.0


class CheckpointerConfig(NamedTuple):
    """Checkpointing: every ``checkpoint_factor`` evaluations (after ``checkpoint_runway``
    units) the model's ``state_dict`` is saved; the best one by ``checkpoint_metric``
    (``"label/dataset/split/metric:min|max"``) is kept and reloaded at the end."""

    checkpoint_dir: str = "checkpoints"
    checkpoint_factor: int = 1
    checkpoint_metric: str = "model/all/train/loss:min"
    checkpoint_task_metrics: tuple[str, ...] | None = None
    checkpoint_runway: float = 0
    checkpoint_clear: bool = True


class LogWriterConfig(NamedTuple):
    """Where metrics are logged when ``logging=True``: ``{log_dir}/{run_name}/``."""

    log_dir: str = "logs"
    run_name: str | None = None


def auto_setting(name: str, setting: Any) -> bool:
    """Whether a ``Trainer`` setting that takes ``"auto"``, ``True`` or ``False`` allows its
    feature (``"auto"`` and ``True`` do: the feature then decides where it applies).

    Examples
    --------
    >>> auto_setting("sparse_input", "auto"), auto_setting("sparse_input", False)
    (True, False)
    >>> auto_setting("sparse_input", 1)
    Traceback (most recent call last):
    ...
    ValueError: sparse_input must be 'auto', True or False; got 1.
    """
    if not (isinstance(setting, bool) or (isinstance(setting, str) and setting == "auto")):
        raise ValueError(f"{name} must be 'auto', True or False; got {setting!r}.")
    return setting is not False


class TrainerConfig(NamedTuple):
    """Settings of :class:`~slicewidgets.classification.Trainer` (Snorkel's names).

    Differences from Snorkel: ``seed`` is used; ``device`` (``"auto"``: CUDA when available)
    replaces ``model_config``; ``log_writer`` defaults to ``"json"`` (TensorBoard is optional);
    ``num_threads`` sets torch's CPU threads during ``fit`` (``"auto"``: one thread for models
    under a million parameters, whose small operations only lose time synchronizing threads,
    and at most the CPUs of the process's quota for larger ones; ``None``: leave torch's
    setting); ``reuse_memory`` keeps freed large blocks in the process during ``fit`` so that
    each step's gradients reuse the last step's pages (``"auto"``: for models of a million
    parameters or more trained on the CPU; see ``slicewidgets.classification._runtime``);
    ``low_rank_update`` lets a step update a weight whose gradient has low rank (the slice-aware
    model's experts; large linear layers at small batches) from the gradient's factors, never
    forming it (``"auto"``: wherever that
    step gives the ordinary one's numbers: fused Adam on the CPU; ``False``: never; see
    ``slicewidgets.classification._lowrank``); ``sparse_input`` lets the step's large
    linear layers multiply only the input columns that hold a nonzero value in the batch
    (bag-of-words features), where at most a quarter of them do (``"auto"`` or ``True``: on the
    CPU; ``False``: never; the numbers differ from the dense products' by float rounding only;
    see ``slicewidgets.classification._linear``).
    """

    seed: int | None = None
    n_epochs: int = 1
    lr: float = 0.01
    l2: float = 0.0
    grad_clip: float = 1.0
    train_split: str = "train"
    valid_split: str = "valid"
    test_split: str = "test"
    progress_bar: bool = True
    device: Any = "auto"
    num_threads: int | str | None = "auto"
    reuse_memory: bool | str = "auto"
    low_rank_update: bool | str = "auto"
    sparse_input: bool | str = "auto"
    log_manager_config: LogManagerConfig = LogManagerConfig()
    checkpointing: bool = False
    checkpointer_config: CheckpointerConfig = CheckpointerConfig()
    logging: bool = False
    log_writer: str = "json"
    log_writer_config: LogWriterConfig = LogWriterConfig()
    optimizer: str = "adam"
    optimizer_config: OptimizerConfig = OptimizerConfig()
    lr_scheduler: str = "constant"
    lr_scheduler_config: LRSchedulerConfig = LRSchedulerConfig()
    batch_scheduler: str = "shuffled"
