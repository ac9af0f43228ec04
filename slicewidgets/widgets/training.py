"""``TrainingPanel``: train a (slice-aware) model in a background thread, with live progress."""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from slicewidgets.analysis.rendering import format_value
from slicewidgets.widgets import _style
from slicewidgets.widgets._charts import loss_curve_svg
from slicewidgets.widgets._mainloop import MainLoop
from slicewidgets.widgets._mlp import mlp_recipe
from slicewidgets.widgets._util import WidgetBase, escape, hold, pre

__all__ = ["TrainingPanel"]

MSG_RUNNING = "Training is already running; press Stop first."
_INITIAL = {"description_width": "initial"}  # labels never truncated


class _PanelCallback:
    """The Trainer's callback: forwards progress to the panel (runs in the training thread)."""

    def __init__(self, panel: TrainingPanel) -> None:
        self.panel = panel

    def on_train_begin(self, trainer: Any, metrics: dict) -> None:
        self.panel._on_begin(trainer)

    def on_batch_end(self, trainer: Any, metrics: dict) -> None:
        self.panel._on_batch(trainer, metrics)

    def on_epoch_end(self, trainer: Any, metrics: dict) -> None:
        self.panel._on_epoch(trainer, metrics)

    def on_train_end(self, trainer: Any, metrics: dict) -> None:
        self.panel._on_end(trainer)


class TrainingPanel(WidgetBase):
    """Hyperparameters, Start/Stop, progress bars, a live loss curve and per-epoch scores.

    Training runs :meth:`slicewidgets.classification.Trainer.fit` in a background thread, so
    the notebook stays responsive; the panel implements the Trainer's callbacks to show the
    progress. Stop asks the trainer to stop after the current batch and leaves a usable model
    (:attr:`model`). An error turns the panel red and is shown in it.

    Parameters
    ----------
    model
        A model for :class:`~slicewidgets.classification.Trainer` (training continues from its
        weights at each Start), or a factory ``model() -> model`` called at each Start.
    dataloaders
        ``DictDataLoader`` list, or a factory ``dataloaders(model, batch_size) -> list``
        (then the batch-size field applies).
    predict
        ``predict(model) -> (preds, probs)``: predictions once training ends (shown by the
        "use predictions" button and passed to ``on_predictions``).
    epoch_scores
        ``epoch_scores(model) -> {name: score}``, called after every epoch (e.g. per-slice
        accuracy); shown as a table, one row per epoch.
    on_predictions
        ``on_predictions(preds, probs)``, called when "use predictions" is pressed (the studio
        sends them to its score table).
    n_epochs, lr, batch_size
        Initial values of the form.
    trainer_options
        Other :class:`~slicewidgets.classification.Trainer` settings (``seed``, ``device``,
        ``optimizer``, ...). ``progress_bar`` is always off (the panel is the progress bar).
    update_interval
        Minimum seconds between two updates of the batch progress and loss curve.

    Attributes
    ----------
    n_epochs, batch_size : ipywidgets.BoundedIntText
    lr : ipywidgets.BoundedFloatText
    start_button, stop_button, use_button : ipywidgets.Button
    epoch_progress, batch_progress : ipywidgets.IntProgress
    status : ipywidgets.HTML
        ``"running ..."``, ``"stopped ..."``, ``"finished ..."`` or ``"error: ..."``.
    loss_plot : ipywidgets.HTML
        The loss curve (inline SVG).
    scores : ipywidgets.HTML
        Per-epoch scores.
    model, trainer, thread
        Of the last Start.
    losses : list of float
        Training loss after every batch.
    epoch_history : list of dict
        ``{"epoch", "loss", **scores}`` per completed epoch.
    state : str
        ``"ready"``, ``"running"``, ``"stopped"``, ``"finished"`` or ``"error"``.

    Examples
    --------
    >>> import torch
    >>> from slicewidgets.classification import DictDataLoader, DictDataset
    >>> from slicewidgets.slicing.sliceaware import PlainClassifier
    >>> X = torch.randn(64, 3); Y = (X[:, 0] > 0).long()
    >>> dl = DictDataLoader(DictDataset.from_tensors(X, Y, "train"), batch_size=16)
    >>> panel = TrainingPanel(PlainClassifier(torch.nn.Linear(3, 8), 8, device="cpu"), [dl],
    ...                       n_epochs=2, trainer_options={"device": "cpu", "seed": 0})
    >>> panel.start_button.click()
    >>> panel.wait(60)
    True
    >>> panel.state, panel.epoch_progress.value
    ('finished', 2)
    """

    state = traitlets.Unicode("ready", read_only=True,
                              help="ready, running, stopped, finished or error.")
    run_count = traitlets.Int(0, read_only=True,
                              help='Runs started so far ("run 1", "run 2", ... in a studio).')

    def __init__(
        self,
        model: Any,
        dataloaders: Sequence[Any] | Callable[[Any, int], Sequence[Any]],
        *,
        predict: Callable[[Any], tuple[Any, Any]] | None = None,
        epoch_scores: Callable[[Any], dict[str, float]] | None = None,
        on_predictions: Callable[[Any, Any], None] | None = None,
        n_epochs: int = 20,
        lr: float = 0.01,
        batch_size: int = 32,
        trainer_options: dict[str, Any] | None = None,
        update_interval: float = 0.1,
    ) -> None:
        super().__init__()
        self._model_spec = model
        self._loaders_spec = dataloaders
        self.predict = predict
        self.epoch_scores = epoch_scores
        self.on_predictions = on_predictions
        self.trainer_options = dict(trainer_options or {})
        self.update_interval = update_interval
        self.model: Any = None if callable(model) and not _is_module(model) else model
        self.trainer: Any = None
        self.thread: threading.Thread | None = None
        self.losses: list[float] = []
        self.epoch_history: list[dict[str, float]] = []
        self.predictions: tuple[Any, Any] | None = None
        self.training_error: BaseException | None = None
        self._outcome: str | None = None  # set by the training thread, shown by the loop
        self.seed: int | None = None
        #: the predictions are of the training rows (``None``: unknown, a custom panel)
        self.predicts_training_rows: bool | None = None
        self.n_training_rows: int | None = None
        self.scores_caption = "per-epoch scores on the training rows"
        self._loop = MainLoop()
        self._last_update = 0.0
        self._t0 = 0.0
        self._lock = threading.Lock()
        self._init_error()

        self.n_epochs = widgets.BoundedIntText(value=n_epochs, min=1, max=100_000,
                                               description="epochs", style=_INITIAL,
                                               layout=widgets.Layout(width="150px"))
        self.lr = widgets.BoundedFloatText(value=lr, min=1e-7, max=10.0, step=0.001,
                                           description="lr", style=_INITIAL,
                                           layout=widgets.Layout(width="150px"))
        self.batch_size = widgets.BoundedIntText(value=batch_size, min=1, max=1_000_000,
                                                 description="batch size", style=_INITIAL,
                                                 disabled=not callable(dataloaders),
                                                 layout=widgets.Layout(width="170px"))
        self.start_button = widgets.Button(description="Start", icon="play",
                                           button_style="success")
        self.start_button.add_class(_style.TRAIN_START)
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True)
        self.stop_button.add_class(_style.TRAIN_STOP)
        self.use_button = widgets.Button(description="use predictions", icon="table",
                                         disabled=True,
                                         tooltip="Score the trained model in the score table",
                                         layout=widgets.Layout(width="150px"))
        self.use_button.add_class("sw-train-use")
        self.epoch_progress = widgets.IntProgress(value=0, min=0, max=n_epochs,
                                                  description="epoch")
        self.epoch_progress.add_class(_style.TRAIN_EPOCH)
        self.batch_progress = widgets.IntProgress(value=0, min=0, max=1, description="batch")
        self.batch_progress.add_class(_style.TRAIN_BATCH)
        self.status = widgets.HTML("ready")
        self.status.add_class(_style.TRAIN_STATUS)
        self.loss_plot = widgets.HTML("")
        self.loss_plot.add_class(_style.TRAIN_LOSS)
        self.scores = widgets.HTML("")
        self.scores.add_class("sw-train-scores")

        self.start_button.on_click(self._guard(lambda _: self.start(), "starting training"))
        self.stop_button.on_click(self._guard(lambda _: self.stop(), "stopping training"))
        self.use_button.on_click(self._guard(lambda _: self.use_predictions(),
                                             "using the predictions"))
        self.children = [
            _style.style_widget(),
            widgets.HBox([self.n_epochs, self.lr, self.batch_size],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.start_button, self.stop_button, self.use_button]),
            widgets.HBox([self.epoch_progress, self.batch_progress],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status, self.error,
            widgets.HBox([self.loss_plot, self.scores],
                         layout=widgets.Layout(flex_flow="row wrap")),
        ]
        self.add_class(_style.TRAINING)
        # The first torch optimizer imports torch._dynamo (3-8 s): do it now, in the background,
        # so that Start answers at once.
        threading.Thread(target=_warm_up_torch, daemon=True, name="slicewidgets-torch-warmup").start()

    # -- construction from arrays ------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        X: Any,
        golds: Any,
        slice_set: Any,
        *,
        X_eval: Any = None,
        golds_eval: Any = None,
        eval_slice_set: Any = None,
        hidden: int = 64,
        metric: str = "accuracy",
        slice_aware: bool = True,
        on_predictions: Callable[[Any, Any], None] | None = None,
        n_epochs: int = 20,
        lr: float = 0.01,
        batch_size: int = 32,
        trainer_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TrainingPanel:
        """A panel that trains a small MLP (one hidden layer) on the training split
        ``(X, golds)`` and predicts the evaluation split ``X_eval``.

        With ``slice_aware=True`` it is a
        :class:`~slicewidgets.slicing.SliceAwareClassifier` over the slices enabled when
        Start is pressed (in ``eval_slice_set`` if given: its SFs are applied to the training
        rows too; else in ``slice_set``); otherwise a plain classifier. Training uses the
        training rows only. Predictions (``on_predictions``) are for the evaluation rows;
        per-epoch scores are ``metric`` overall and per slice on the evaluation rows (on the
        training rows, and said so, when no evaluation split is given).

        Parameters
        ----------
        X, golds
            Features (numpy array, scipy sparse matrix or tensor) and labels (integers from
            0) of the training rows.
        slice_set
            The :class:`~slicewidgets.slicing.SliceSet` of the training rows.
        X_eval, golds_eval, eval_slice_set
            Features, labels and SliceSet of the evaluation rows (the rows a score table
            scores). Without them the predictions are of the training rows: a score table
            shows them flagged in red.
        trainer_options
            :class:`~slicewidgets.classification.Trainer` settings; ``seed`` (default 0)
            seeds the panel's own generators (weights, shuffling): the global ``random``,
            NumPy and torch generators are never seeded, so user code keeps reproducing.
        """
        recipe = mlp_recipe(X, golds, slice_set, X_eval=X_eval, golds_eval=golds_eval,
                            eval_slice_set=eval_slice_set, hidden=hidden, metric=metric,
                            slice_aware=slice_aware, trainer_options=trainer_options)
        panel = cls(recipe.build_model, recipe.build_loaders, predict=recipe.predict,
                    epoch_scores=recipe.epoch_scores, on_predictions=on_predictions,
                    n_epochs=n_epochs, lr=lr, batch_size=batch_size,
                    trainer_options=recipe.trainer_options, **kwargs)
        panel.seed = recipe.seed
        panel.predicts_training_rows = recipe.predicts_training_rows
        panel.n_training_rows = recipe.n_training_rows
        if not panel.predicts_training_rows:
            panel.scores_caption = "per-epoch scores on the evaluation split"
        return panel

    # -- control ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        """Build the model and loaders and start training in a background thread."""
        if self.running:
            raise RuntimeError(MSG_RUNNING)
        from slicewidgets.classification import Trainer

        self._clear_error()
        self.training_error = None
        self.predictions = None
        self.losses, self.epoch_history = [], []
        try:
            spec = self._model_spec
            model = spec() if callable(spec) and not _is_module(spec) else spec
            loaders = self._loaders_spec
            if callable(loaders):
                loaders = loaders(model, int(self.batch_size.value))
            # never the Trainer's seed: it seeds the global generators (see from_arrays)
            options = {k: v for k, v in self.trainer_options.items()
                       if k not in ("progress_bar", "seed")}
            trainer = Trainer(n_epochs=int(self.n_epochs.value), lr=float(self.lr.value),
                              progress_bar=False, callbacks=[_PanelCallback(self)], **options)
        except Exception as err:
            self._fail(err)
            return
        self.model, self.trainer = model, trainer
        n_batches = sum(len(dl) for dl in loaders
                        if dl.dataset.split == trainer.config.train_split)
        with hold(self.epoch_progress, self.batch_progress):  # one message per bar
            self.epoch_progress.max = int(self.n_epochs.value)
            self.epoch_progress.value = 0
            self.batch_progress.max = max(1, n_batches)
            self.batch_progress.value = 0
            self.epoch_progress.bar_style = self.batch_progress.bar_style = "info"
        self.loss_plot.value = ""
        self.scores.value = ""
        self.use_button.disabled = True
        self._set_running(True)
        self._outcome = None
        self.set_trait("state", "running")
        self.set_trait("run_count", self.run_count + 1)
        self._set_status(f"running: starting run {self.run_count}")
        self._t0 = time.perf_counter()
        self._loop = MainLoop()  # the thread hands its UI updates to this loop
        self.thread = threading.Thread(target=self._run, args=(trainer, model, list(loaders)),
                                       name="slicewidgets-training", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Ask the trainer to stop after the current batch (the model stays usable)."""
        if self.trainer is not None and self.running:
            self.trainer.request_stop()
            self._set_status("running: stopping after this batch")

    def close(self) -> None:
        """Stop a running training (after its current batch), then close the widgets."""
        self.stop()
        super().close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the training thread; ``True`` if it has ended (and :attr:`state` says
        how, at once, even before the kernel's loop has drawn the end)."""
        if self.thread is not None:
            self.thread.join(timeout)
        ended = not self.running
        if ended and self._outcome is not None and self.state != self._outcome \
                and threading.current_thread() is self._loop.thread:
            self.set_trait("state", self._outcome)
        return ended

    def use_predictions(self) -> None:
        """Send the trained model's predictions to ``on_predictions`` (the score table)."""
        if self.predictions is None:
            raise RuntimeError("No predictions yet: train a model first (Start).")
        if self.on_predictions is None:
            raise RuntimeError("This panel has no on_predictions callback to send them to.")
        self.on_predictions(*self.predictions)

    # -- the training thread ------------------------------------------------------------------
    def _ui(self, fn: Callable[[], Any]) -> None:
        """Run a UI update on the kernel's main loop (the training thread never touches
        the widgets itself)."""
        self._loop.call(fn)

    def _run(self, trainer: Any, model: Any, loaders: list) -> None:
        try:
            trainer.fit(model, loaders)
            if self.predict is not None:
                self.predictions = self.predict(model)
        except BaseException as err:  # noqa: BLE001 - shown in the panel, never lost
            self._fail(err)
            return
        elapsed = time.perf_counter() - self._t0
        done = len(trainer.history)
        loss = self.losses[-1] if self.losses else math.nan
        self._outcome = "stopped" if trainer.stopped else "finished"
        epoch, batch = trainer.epoch + 1, trainer.batch_num + 1
        self._ui(lambda: self._show_end(trainer.stopped, elapsed, done, loss, epoch, batch))

    def _show_end(self, stopped: bool, elapsed: float, done: int, loss: float, epoch: int,
                  batch: int) -> None:
        self._draw_loss()
        self._set_running(False)
        self.use_button.disabled = self.predictions is None or self.on_predictions is None
        if stopped:
            self.epoch_progress.bar_style = self.batch_progress.bar_style = "warning"
            self._set_status(
                f"stopped at epoch {epoch}/{self.epoch_progress.max}, batch "
                f"{batch}/{self.batch_progress.max} after {elapsed:.1f} s "
                f"(loss {loss:.4f}); the model is usable")
        else:
            self.epoch_progress.bar_style = self.batch_progress.bar_style = "success"
            self._set_status(f"finished: {done} epochs in {elapsed:.1f} s, loss {loss:.4f}")
        self.set_trait("state", "stopped" if stopped else "finished")

    def _fail(self, err: BaseException) -> None:
        """Turn the panel red and show the error (training thread or Start)."""
        self.training_error = self.last_exception = err
        self._outcome = "error"
        text = "".join(traceback.format_exception_only(type(err), err)).strip()
        where = ""
        frames = traceback.extract_tb(err.__traceback__)
        if frames:
            where = f"\n  at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"

        def show() -> None:
            self.error.value = pre(text + where)
            self._set_running(False)
            self.add_class(_style.ERROR_STATE)
            self.epoch_progress.bar_style = self.batch_progress.bar_style = "danger"
            self._set_status(f"error: {text}")
            self.set_trait("state", "error")

        if threading.current_thread() is self._loop.thread:
            show()  # Start failed: show it now
        else:
            self._ui(show)

    def _on_begin(self, trainer: Any) -> None:
        n = max(1, trainer.n_batches_per_epoch)
        self._ui(lambda: setattr(self.batch_progress, "max", n))

    def _on_batch(self, trainer: Any, metrics: dict) -> None:
        loss = metrics.get("model/all/train/loss")
        if loss is not None:
            self.losses.append(float(loss))
        now = time.perf_counter()
        if now - self._last_update < self.update_interval:
            return
        self._last_update = now
        epoch, batch = trainer.epoch, trainer.batch_num + 1

        def show() -> None:
            self.epoch_progress.value = epoch
            self.batch_progress.value = batch
            self._set_status(
                f"running: epoch {epoch + 1}/{self.epoch_progress.max}, batch "
                f"{batch}/{self.batch_progress.max}"
                + (f", loss {loss:.4f}" if loss is not None else ""))
            self._draw_loss()

        self._ui(show)

    def _on_epoch(self, trainer: Any, metrics: dict) -> None:
        summary = trainer.history[-1] if trainer.history else {}
        row = {"epoch": trainer.epoch + 1, "loss": float(summary.get("loss", math.nan))}
        if self.epoch_scores is not None:
            row.update(self.epoch_scores(self.model))
            self.model.train()  # epoch_scores may have switched to eval mode
        self.epoch_history.append(row)
        epoch = trainer.epoch + 1

        def show() -> None:
            self.epoch_progress.value = epoch
            self.batch_progress.value = self.batch_progress.max
            self._draw_loss()
            self._draw_scores()
            self._last_update = time.perf_counter()

        self._ui(show)

    def _on_end(self, trainer: Any) -> None:
        pass  # the thread reports the outcome once fit() has returned

    # -- drawing ------------------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        self.start_button.disabled = running
        self.stop_button.disabled = not running
        for control in (self.n_epochs, self.lr):
            control.disabled = running
        self.batch_size.disabled = running or not callable(self._loaders_spec)
        if running:
            self.remove_class(_style.ERROR_STATE)

    def _set_status(self, text: str) -> None:
        self.status.value = escape(text)

    def _draw_loss(self) -> None:
        self.loss_plot.value = loss_curve_svg(self.losses, n_per_epoch=self.batch_progress.max)

    def _draw_scores(self) -> None:
        rows = self.epoch_history[-12:]  # the latest epochs
        if not rows:
            self.scores.value = ""
            return
        cols = [c for c in rows[-1] if c != "epoch"]
        head = "".join(f"<th>{escape(c)}</th>" for c in ["epoch", *cols])
        body = []
        for r in rows:
            cells = [f"<td class='sw-num'>{r['epoch']}</td>"]
            cells += [f"<td class='sw-num'>{format_value(r.get(c), 'score')}</td>" for c in cols]
            body.append(f"<tr>{''.join(cells)}</tr>")
        note = (f"<caption>{escape(self.scores_caption)}</caption>"
                if self.epoch_scores is not None else "")
        self.scores.value = (f"<table class='sw-table sw-epoch-scores'>{note}<thead><tr>{head}"
                             f"</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _is_module(obj: Any) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(obj, torch.nn.Module)


def _warm_up_torch() -> None:
    try:
        import torch

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    except Exception:  # warming up is an optimisation only
        pass
