"""Snorkel's module paths: real modules, thin faces over where the code lives."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

#: Snorkel module path (with slicewidgets for snorkel) -> names Snorkel code imports from it
SNORKEL_PATHS = {
    "slicewidgets.types": ["Config", "DataPoint", "DataPoints", "Field", "FieldMap", "HashingFunction"],
    "slicewidgets.utils.core": ["preds_to_probs", "probs_to_preds", "to_int_label_array", "filter_labels"],
    "slicewidgets.utils.config_utils": ["merge_config"],
    "slicewidgets.utils.data_operators": ["check_unique_names"],
    "slicewidgets.slicing.sf.core": ["SlicingFunction", "slicing_function"],
    "slicewidgets.slicing.apply.core": ["SFApplier", "PandasSFApplier"],
    "slicewidgets.slicing.monitor": ["slice_dataframe"],
    "slicewidgets.slicing.utils": ["add_slice_labels", "convert_to_slice_tasks"],
    "slicewidgets.slicing.sliceaware_classifier": ["SliceAwareClassifier"],
    "slicewidgets.slicing.modules.slice_combiner": ["SliceCombinerModule"],
    "slicewidgets.analysis.error_analysis": ["get_label_buckets", "get_label_instances"],
    "slicewidgets.analysis.metrics": ["METRICS", "Metric", "metric_score"],
    "slicewidgets.analysis.scorer": ["Scorer"],
    "slicewidgets.classification.data": ["DictDataset", "DictDataLoader", "collate_dicts"],
    "slicewidgets.classification.task": ["Task", "Operation"],
    "slicewidgets.classification.multitask_classifier": ["MultitaskClassifier"],
    "slicewidgets.classification.loss": ["cross_entropy_with_probs"],
    "slicewidgets.classification.utils": ["list_to_tensor", "pad_batch", "move_to_device",
                                          "collect_flow_outputs_by_suffix",
                                          "metrics_dict_to_dataframe"],
    "slicewidgets.classification.training.trainer": ["Trainer"],
    "slicewidgets.classification.training.loggers": ["Checkpointer", "CheckpointerConfig",
                                                     "LogManager", "LogManagerConfig", "LogWriter",
                                                     "LogWriterConfig", "TensorBoardWriter"],
    "slicewidgets.classification.training.loggers.checkpointer": ["Checkpointer"],
    "slicewidgets.classification.training.loggers.log_manager": ["LogManager"],
    "slicewidgets.classification.training.loggers.log_writer": ["LogWriter"],
    "slicewidgets.classification.training.loggers.tensorboard_writer": ["TensorBoardWriter"],
    "slicewidgets.classification.training.schedulers": ["SequentialScheduler", "ShuffledScheduler"],
    "slicewidgets.preprocess.core": ["Preprocessor", "LambdaPreprocessor", "preprocessor"],
    "slicewidgets.preprocess.nlp": ["SpacyPreprocessor"],
    "slicewidgets.slicing.sf.nlp": ["NLPSlicingFunction", "nlp_slicing_function"],
}


@pytest.mark.parametrize("module", sorted(SNORKEL_PATHS))
def test_snorkel_path_is_a_real_module_with_its_names(module):
    if module.startswith("slicewidgets.classification") or module.endswith(
            ("sliceaware_classifier", "slice_combiner", "slicing.utils")):
        pytest.importorskip("torch")
    mod = importlib.import_module(module)
    assert mod.__file__.endswith(".py")  # a file an IDE can open, not an import hook
    for name in SNORKEL_PATHS[module]:
        assert name in dir(mod), f"{module}.{name} is not listed by dir()"
        assert getattr(mod, name) is not None


def test_faces_are_the_same_objects_as_the_code():
    pytest.importorskip("torch")
    from slicewidgets import classification, slicing
    from slicewidgets.classification.training.trainer import Trainer
    from slicewidgets.slicing.apply.core import PandasSFApplier
    from slicewidgets.slicing.sliceaware_classifier import SliceAwareClassifier
    from slicewidgets.slicing.utils import convert_to_slice_tasks

    assert Trainer is classification.Trainer
    assert PandasSFApplier is slicing.PandasSFApplier
    assert SliceAwareClassifier is slicing.SliceAwareClassifier is classification.SliceAwareClassifier
    assert convert_to_slice_tasks is slicing.convert_to_slice_tasks


def test_lazy_names_show_in_dir_and_slicing_stays_free_of_torch():
    code = ("import sys, slicewidgets.slicing as s\n"
            "assert 'SliceAwareClassifier' in dir(s) and 'NLPSlicingFunction' in dir(s)\n"
            "assert 'torch' not in sys.modules and 'spacy' not in sys.modules\n"
            "import slicewidgets.slicing.sf.nlp, slicewidgets.preprocess.nlp, slicewidgets.types\n"
            "import slicewidgets.utils.config_utils, slicewidgets.analysis.error_analysis\n"
            "assert 'torch' not in sys.modules and 'spacy' not in sys.modules\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_check_unique_names_message():
    from slicewidgets.utils.data_operators import check_unique_names

    check_unique_names(["a", "b"])
    with pytest.raises(ValueError, match="^Operator names not unique: 3 operators with name c"):
        check_unique_names(["a", "a", "b", "c", "c", "c"])
