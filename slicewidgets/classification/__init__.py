"""Classification: multi-task models, slice-aware learning, and a trainer that can be watched.

A :class:`DictDataset` holds a model's inputs (``X_dict``) and one label tensor per task
(``Y_dict``); a :class:`DictDataLoader` batches it. A :class:`Task` is one prediction task (a
path of :class:`Operation` objects through a pool of modules), and a
:class:`MultitaskClassifier` trains several tasks that share modules. Slice-based learning is
multi-task learning: :func:`convert_to_slice_tasks` turns a task into per-slice indicator and
expert tasks combined by a :class:`SliceCombinerModule`; :class:`SliceAwareClassifier` is that
model with its heads computed together (fast), and :class:`PlainClassifier` /
:func:`make_oversampling_dataloader` are baselines. The :class:`Trainer` fits any classifier
that turns a batch into one loss per label (``calculate_loss``): it keeps Snorkel's settings and metric names,
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
from slicewidgets.classification._loggers import (
    Checkpointer,
    LogManager,
    LogWriter,
    TensorBoardWriter,
)
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
from slicewidgets.classification.loss import cross_entropy_with_probs
from slicewidgets.classification.multitask_classifier import ClassifierConfig, MultitaskClassifier
from slicewidgets.classification.oversampling import make_oversampling_dataloader
from slicewidgets.classification.schedulers import SequentialScheduler, ShuffledScheduler
from slicewidgets.classification.slice_combiner import SliceCombinerModule
from slicewidgets.classification.slice_tasks import (
    add_slice_labels,
    convert_to_slice_tasks,
    slice_label_names,
)
from slicewidgets.classification.sliceaware import PlainClassifier, SliceAwareClassifier
from slicewidgets.classification.task import Operation, Task
from slicewidgets.classification.trainer import Trainer, TrainerCallback

__all__ = [
    "DEFAULT_DATASET_NAME",
    "DEFAULT_INPUT_DATA_KEY",
    "DEFAULT_TASK_NAME",
    "AdamOptimizerConfig",
    "AdamaxOptimizerConfig",
    "Checkpointer",
    "CheckpointerConfig",
    "ClassifierConfig",
    "DictDataLoader",
    "DictDataset",
    "LRSchedulerConfig",
    "LogManager",
    "LogManagerConfig",
    "LogWriter",
    "LogWriterConfig",
    "MultitaskClassifier",
    "Operation",
    "OptimizerConfig",
    "PlainClassifier",
    "SGDOptimizerConfig",
    "SequentialScheduler",
    "ShuffledScheduler",
    "SliceAwareClassifier",
    "SliceCombinerModule",
    "Task",
    "TensorBoardWriter",
    "Trainer",
    "TrainerCallback",
    "TrainerConfig",
    "add_slice_labels",
    "collate_dicts",
    "convert_to_slice_tasks",
    "cross_entropy_with_probs",
    "list_to_tensor",
    "make_oversampling_dataloader",
    "merge_config",
    "metrics_dict_to_dataframe",
    "move_to_device",
    "pad_batch",
    "slice_label_names",
]
