"""Classification: data in dictionaries, and a trainer that can be watched and stopped.

A :class:`DictDataset` holds a model's inputs (``X_dict``) and one label tensor per task
(``Y_dict``); a :class:`DictDataLoader` batches it. The :class:`Trainer` fits any classifier
that turns a batch into one loss per label (``calculate_loss``), such as
:class:`slicewidgets.slicing.SliceAwareClassifier`: it keeps Snorkel's settings and metric names,
and adds callbacks (:class:`TrainerCallback`), a thread-safe :meth:`Trainer.request_stop`, a
working ``seed``, CUDA when available, and ``weights_only`` checkpoints. The widgets watch and
stop training through the callbacks; this package never imports them.

The names mirror ``snorkel.classification``: Snorkel code runs with its import lines changed.
This subpackage imports torch; ``import slicewidgets`` does not.
"""

try:  # torch comes with the 'learn' extra; say so instead of a bare ModuleNotFoundError
    import torch  # noqa: F401
except ModuleNotFoundError as _err:
    from slicewidgets._optional import missing_extra

    raise missing_extra(_err, purpose="slicewidgets.classification") from None

from slicewidgets.classification._config import (
    AdamaxOptimizerConfig,
    AdamOptimizerConfig,
    CheckpointerConfig,
    LogManagerConfig,
    LogWriterConfig,
    LRSchedulerConfig,
    OptimizerConfig,
    SGDOptimizerConfig,
    TrainerConfig,
    merge_config,
)
from slicewidgets.classification._loggers import Checkpointer, LogManager, LogWriter
from slicewidgets.classification._utils import (
    list_to_tensor,
    metrics_dict_to_dataframe,
    move_to_device,
    pad_batch,
)
from slicewidgets.classification.data import (
    DEFAULT_DATASET_NAME,
    DEFAULT_INPUT_DATA_KEY,
    DEFAULT_TASK_NAME,
    DictDataLoader,
    DictDataset,
    collate_dicts,
)
from slicewidgets.classification.trainer import Trainer, TrainerCallback

__all__ = [
    "DEFAULT_DATASET_NAME",
    "DEFAULT_INPUT_DATA_KEY",
    "DEFAULT_TASK_NAME",
    "AdamOptimizerConfig",
    "AdamaxOptimizerConfig",
    "Checkpointer",
    "CheckpointerConfig",
    "DictDataLoader",
    "DictDataset",
    "LRSchedulerConfig",
    "LogManager",
    "LogManagerConfig",
    "LogWriter",
    "LogWriterConfig",
    "OptimizerConfig",
    "SGDOptimizerConfig",
    "Trainer",
    "TrainerCallback",
    "TrainerConfig",
    "collate_dicts",
    "list_to_tensor",
    "merge_config",
    "metrics_dict_to_dataframe",
    "move_to_device",
    "pad_batch",
]
