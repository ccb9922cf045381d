"""The ``train`` command: LightningCLI for every project package.

``train [--project NAME] [fit|validate|test|predict] [--config CFG] [--section.key value]``

- With no arguments it fits the project's default config (``configs/simclr.yaml``); the
  datamodule gets the data first if it is missing. Where no GPU is found the default is
  the project's CPU recipe of it (``simclr-cpu.yaml``), said in one line; an explicit
  ``--config`` always wins.
- A subcommand without ``--config`` uses the project's default config; options without
  a subcommand mean ``fit`` (``train --print_config`` shows the default fit config).
- ``--config NAME`` also takes a config of the project by name (``--config simclr-cpu``).
- An experiment whose first lines say ``# extends: FILE`` (e.g. ``trainer-cpu.yaml``, a
  file beside it) gets ``--config FILE`` before it: what many experiments share is
  written once, and the experiment's own keys win (LightningCLI merges several
  ``--config`` in order; ``--print_config`` shows the result).
- With only config *paths*, no project is needed (``train fit --config my.yaml``).
- Unless the config says otherwise, runs log to CSV under ``trainer.default_root_dir``
  (default ``runs/<project>/<config>``): a ``fit`` into a new ``version_N``; ``validate``,
  ``test`` and ``predict`` of a checkpoint ``version_N/checkpoints/*.ckpt`` there into
  ``version_N-test`` (``-validate``, ``-predict``) beside it, of any other checkpoint
  into ``test`` (:func:`ssl_core.resume.evaluation_folder`); ``--ckpt_path last``
  evaluates the newest fit's ``last.ckpt``.
- ``validate`` and ``test`` print their metrics as one table (:func:`print_metrics`), by
  the names they are logged with (``test/top1``, ``test/knn_top1``, ``test/iou``...).
- ``fit`` shows the optimizer steps against ``max_steps`` in its progress bar
  (:class:`ssl_core.progress.StepProgressBar`).
- Every ``fit`` with checkpointing on writes ``version_N/checkpoints/last.ckpt`` at every
  epoch end, whatever its validation schedule (:class:`ssl_core.resume.LastCheckpoint`,
  added unless the config lists one; ``--checkpoint_every_n_train_steps N`` also every
  N steps), and ``--ckpt_path last`` resumes from it.

Tests and scripts call :func:`main` with a list, exactly as on the command line.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lightning.pytorch import LightningDataModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities import rank_zero_warn

from ssl_core.errors import MissingInputError, exits_on_input_errors
from ssl_core.project import (
    Project,
    ProjectResolutionError,
    extended,
    recipe,
    resolve_project,
)
from ssl_core.task import TaskModule
from ssl_core.threads import CpuThreads, CpuThreadsSetting

SUBCOMMANDS = ("fit", "validate", "test", "predict")
EVALUATIONS = ("validate", "test", "predict")  # a checkpoint's evaluations: they log beside it
# Lightning's warning of callback states in a checkpoint that no callback takes
MISSING_CALLBACKS_WARNING = "Be aware that when using `ckpt_path`, callbacks used to create"


def _pop_option(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """Remove ``name VALUE`` / ``name=VALUE`` from ``args``; return the value and the rest."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1], args[:i] + args[i + 2 :]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1], args[:i] + args[i + 1 :]
    return None, args


def _config_paths_only(args: list[str]) -> bool:
    """Whether every ``--config`` of ``args`` is an existing file (no project needed)."""
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--config", "-c")]
    values += [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    return bool(values) and all(Path(v).is_file() for v in values)


def default_recipe(project: Project) -> str:
    """The config ``train`` runs when given none: the project's default, or on a machine
    without a GPU its CPU recipe (``<default>-cpu.yaml``) where the project has one."""
    import torch

    name = project.default_config
    cpu = f"{Path(name).stem}-cpu.yaml"
    if torch.cuda.is_available() or recipe(project.config_dir, cpu) is None:
        return name
    print(
        f"train: no GPU found: running {project.name}'s CPU recipe {cpu} "
        f"(`--config {Path(name).stem}` runs the GPU one)",
        file=sys.stderr,
        flush=True,
    )
    return cpu


def with_project_config(
    args: list[str], project: Project | None, default: str | None = None
) -> list[str]:
    """Fill in the default subcommand/config (``default``, else the project's) and
    resolve config names of the project."""
    wants_help = any(a in ("-h", "--help") for a in args)
    if not any(a in SUBCOMMANDS for a in args) and not wants_help:
        args = ["fit", *args]  # no subcommand (``train``, ``train --print_config``): fit
    out = []
    for i, arg in enumerate(args):
        if i > 0 and args[i - 1] in ("--config", "-c") and not Path(arg).exists():
            arg = str(project.config(arg))  # a config of the project, by name
        elif arg.startswith("--config=") and not Path(arg.split("=", 1)[1]).exists():
            arg = "--config=" + str(project.config(arg.split("=", 1)[1]))
        out.append(arg)
    has_config = any(a in ("--config", "-c") or a.startswith("--config=") for a in out)
    if out[0] in SUBCOMMANDS and not has_config and not wants_help and project is not None:
        out[1:1] = ["--config", str(project.config(default))]
    expanded: list[str] = []
    for i, arg in enumerate(out):
        if arg in ("--config", "-c"):
            continue
        search = project.config_dir if project is not None else None
        if i > 0 and out[i - 1] in ("--config", "-c"):
            expanded += extended(Path(arg), search)
        elif arg.startswith("--config="):
            expanded += extended(Path(arg.split("=", 1)[1]), search)
        else:
            expanded.append(arg)
    return expanded


class SSLCLI(LightningCLI):
    """LightningCLI with project defaults: CSV logging, a run directory per config, a
    validation at every fit's last step, a ``last.ckpt`` at every fit's epoch ends and a
    writer for every predict."""

    def __init__(self, project: Project | None, config_name: str, **kwargs) -> None:
        self.project = project
        self.config_name = config_name
        super().__init__(
            model_class=TaskModule,  # embedding/classification methods and segmentation tasks
            subclass_mode_model=True,
            datamodule_class=LightningDataModule,
            subclass_mode_data=True,
            auto_configure_optimizers=False,  # the module builds them from its callables
            save_config_kwargs={"overwrite": True},
            **kwargs,
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """``--checkpoint_every_n_train_steps`` (see :class:`ssl_core.resume.LastCheckpoint`)
        and ``--cpu_threads`` (see :mod:`ssl_core.threads`)."""
        parser.add_argument(
            "--checkpoint_every_n_train_steps",
            type=int | None,
            default=None,
            help="fit: also write last.ckpt every N optimizer steps, not only at epoch "
            "ends (for long epochs; resuming from a mid-epoch checkpoint is not exact, "
            "see ssl_core.resume)",
        )
        parser.add_argument(
            "--cpu_threads",
            type=CpuThreadsSetting,
            default="auto",
            help="a CPU run's torch intra-op threads: auto (the cores other programs leave, "
            "see ssl_core.threads), torch (leave torch's count: one per core) or N",
        )

    def after_instantiate_classes(self) -> None:
        """Apply ``--cpu_threads`` to a CPU run, in each of its processes (see
        :class:`ssl_core.threads.CpuThreads`)."""
        config = self.config[self.subcommand] if self.subcommand else self.config
        self.trainer.callbacks.append(CpuThreads(config.get("cpu_threads", "auto")))

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        if trainer.default_root_dir is None:
            project = self.project.name if self.project else ""
            trainer.default_root_dir = str(Path("runs") / project / self.config_name)
        if self.subcommand in EVALUATIONS and config.ckpt_path == "last":
            config.ckpt_path = self._last_checkpoint(trainer.default_root_dir)
        if trainer.logger in (None, True):
            from jsonargparse import Namespace

            from ssl_core.resume import evaluation_folder

            version = None  # a fit: the next version_N
            if self.subcommand in EVALUATIONS:  # beside the fit it evaluates
                version = evaluation_folder(
                    trainer.default_root_dir, config.ckpt_path, self.subcommand
                )
            trainer.logger = Namespace(
                class_path="lightning.pytorch.loggers.CSVLogger",
                init_args=Namespace(save_dir=trainer.default_root_dir, name="", version=version),
            )
        if self.subcommand == "fit" and trainer.accelerator in ("auto", "gpu", "cuda"):
            import torch

            gpu_recipe = not self.config_name.endswith("-cpu") and self.project is not None
            if not torch.cuda.is_available() and gpu_recipe:
                rank_zero_warn(
                    f"No GPU found: {self.config_name} is a GPU recipe and will be slow here. "
                    f"On a CPU try `--config {self.config_name}-cpu` if the project has it "
                    f"(configs in {self.project.config_dir})."
                )
        if self.subcommand == "fit":  # every recipe's final step is validated and logged
            _add_callback(config, "ssl_core.final_validation.ValidateAtLastStep")
            _add_progress_bar(config)
            _ensure_last_checkpoint(config)
        if self.subcommand == "predict":
            self._add_embedding_writer(config)
        if self.subcommand == "fit" and config.ckpt_path == "last":
            self._resume_last(config)

    def _resume_last(self, config) -> None:
        """``--ckpt_path last``: continue the newest ``version_N`` of this config that has
        a ``last.ckpt``, in its own folder and CSV log (see :mod:`ssl_core.resume`)."""
        from jsonargparse import Namespace

        from ssl_core.resume import checkpoint_step, last_run

        root = config.trainer.default_root_dir
        found = last_run(root)
        if found is None:  # a first start of a job that always passes --ckpt_path last
            print(f"train: no earlier run with a last.ckpt under {root}: starting a new run")
            config.ckpt_path = None
            return
        ckpt, version = found
        print(f"train: resuming {ckpt} (run folder version_{version})")
        config.ckpt_path = str(ckpt)
        logger = config.trainer.logger
        if not (isinstance(logger, Namespace) and "CSVLogger" in str(logger.get("class_path"))):
            return  # another logger: it keeps its own ways
        save_dir = logger.init_args.get("save_dir") or root
        config.trainer.logger = Namespace(
            class_path="ssl_core.resume.ResumableCSVLogger",
            init_args=Namespace(
                save_dir=save_dir, name="", version=version, keep_before_step=checkpoint_step(ckpt)
            ),
        )

    def _last_checkpoint(self, root: str) -> str:
        """``validate|test|predict --ckpt_path last``: the newest fit's ``last.ckpt``
        under ``root`` (Lightning would look among this run's own checkpoints, find
        none and evaluate the untrained network with only a warning)."""
        from ssl_core.resume import last_run

        found = last_run(root)
        if found is None:
            raise MissingInputError(
                f"--ckpt_path last: no run with a last.ckpt under {root} "
                "(fit first, or give the checkpoint's path)"
            )
        print(f"train: {self.subcommand} of {found[0]}")
        return str(found[0])

    # ---------------------------------------------------------------- evaluations
    def validate(self, verbose: bool = True, **kwargs) -> None:
        """``trainer.validate`` of the checkpoint (:meth:`_evaluate`), its metrics
        printed as one table (:func:`print_metrics`)."""
        results = self._evaluate(self.trainer.validate, verbose=False, **kwargs)
        if verbose and self.trainer.is_global_zero:
            print_metrics(results, "validate")

    def test(self, verbose: bool = True, **kwargs) -> None:
        """``trainer.test`` of the checkpoint (:meth:`_evaluate`), its metrics printed
        as one table (:func:`print_metrics`)."""
        results = self._evaluate(self.trainer.test, verbose=False, **kwargs)
        if verbose and self.trainer.is_global_zero:
            print_metrics(results, "test")

    def predict(self, **kwargs) -> None:
        """``trainer.predict`` of the checkpoint (:meth:`_evaluate`)."""
        self._evaluate(self.trainer.predict, **kwargs)

    def _evaluate(self, run, ckpt_path: str | None = None, **kwargs):
        """``run(ckpt_path=ckpt_path, **kwargs)`` (``trainer.validate|test|predict``)
        without the warnings of restoring the fit's callbacks.

        Lightning restores every callback's state from the checkpoint, which only a
        resumed fit uses, and warns of what an evaluation always differs in from the fit:
        its callbacks (the fit's :class:`~ssl_core.resume.LastCheckpoint` is not added
        to it) and its log folder (a ``ModelCheckpoint`` without a ``dirpath``, as the
        recipes list, would warn that "the dirpath has changed": the evaluation does not
        log into the fit's folder). Here the checkpoint callbacks are pointed at the
        folder each wrote into during the fit (as the checkpoint says; nothing is saved
        there, only ``fit`` saves), and the missing callbacks are not warned of. A
        resumed fit still warns of both.
        """
        callbacks = [c for c in self.trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
        if ckpt_path and Path(ckpt_path).is_file() and callbacks:
            from ssl_core.resume import checkpoint_folders

            folders = checkpoint_folders(ckpt_path)
            for callback in callbacks:
                if callback.dirpath is None and callback.state_key in folders:
                    callback.dirpath = folders[callback.state_key]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=MISSING_CALLBACKS_WARNING)
            return run(ckpt_path=ckpt_path, **kwargs)

    def _add_embedding_writer(self, config) -> None:
        """``predict`` writes embeddings to ``<default_root_dir>/embeddings`` (see
        :mod:`ssl_core.embeddings`), or for a segmentation task one mask per test image
        to ``<default_root_dir>/masks`` (see :mod:`ssl_core.segmentation.writer`), unless
        the config already has such a writer."""
        from jsonargparse import Namespace

        model = config.model.get("class_path") if isinstance(config.model, Namespace) else None
        if model and _is_segmentation(model):
            name, class_path = "MaskWriter", "ssl_core.segmentation.writer.MaskWriter"
        else:
            name, class_path = "EmbeddingWriter", "ssl_core.embeddings.EmbeddingWriter"
        if _has_callback(config, name):
            return
        text = self._parser(self.subcommand).dump(config, skip_none=False)
        _add_callback(config, class_path, Namespace(config=text))


def _callbacks(config) -> list:
    callbacks = config.trainer.callbacks or []
    return list(callbacks) if isinstance(callbacks, list) else [callbacks]


def _has_callback(config, name: str) -> bool:
    """Whether the trainer config already lists a callback whose class path has ``name``."""
    return any(name in str(getattr(c, "class_path", c)) for c in _callbacks(config))


def _add_callback(config, class_path: str, init_args=None) -> None:
    """Append the callback ``class_path`` to the trainer config unless it is there."""
    from jsonargparse import Namespace

    if _has_callback(config, class_path):
        return
    callback = Namespace(class_path=class_path, init_args=init_args or Namespace())
    config.trainer.callbacks = [*_callbacks(config), callback]


def _ensure_last_checkpoint(config) -> None:
    """Give a fit a :class:`~ssl_core.resume.LastCheckpoint` (``last.ckpt`` at every epoch
    end) unless it lists one, with ``checkpoint_every_n_train_steps`` where set.

    The config's own ``ModelCheckpoint`` callbacks keep their monitor, top-k files and
    schedule; those writing into the run's ``checkpoints/`` folder (no ``dirpath``) leave
    ``last.ckpt`` to it (their ``save_last`` off: Lightning would otherwise write a second
    ``last-v1.ckpt``). A fit with ``trainer.enable_checkpointing: false`` gets nothing.
    """
    from jsonargparse import Namespace

    if config.trainer.enable_checkpointing is False:
        return
    for callback in _callbacks(config):
        init_args = getattr(callback, "init_args", None)
        if (
            "ModelCheckpoint" in str(getattr(callback, "class_path", ""))
            and init_args is not None
            and init_args.get("dirpath") is None
        ):
            init_args.save_last = False
    name = "ssl_core.resume.LastCheckpoint"
    _add_callback(config, name, Namespace(every_n_train_steps=None, dirpath=None))
    steps = config.get("checkpoint_every_n_train_steps")
    for callback in _callbacks(config):
        if steps is not None and name in str(getattr(callback, "class_path", "")):
            callback.init_args.every_n_train_steps = steps


def _add_progress_bar(config) -> None:
    """Give a fit the :class:`~ssl_core.progress.StepProgressBar` (steps against
    ``max_steps``) unless the config turns the bar off or lists its own."""
    if config.trainer.enable_progress_bar is False or _has_callback(config, "ProgressBar"):
        return
    _add_callback(config, "ssl_core.progress.StepProgressBar")


def print_metrics(results: list[dict], stage: str) -> None:
    """Print the metrics of ``train validate|test`` as one table, a row per metric.

    Lightning prints a column per dataloader and repeats in each the metrics logged at
    the epoch's end: the classification methods' two loaders (the kNN's memory bank and
    the images scored, :class:`ssl_core.methods.base.BaseMethod`) made two identical
    columns. The names are those logged (``metrics.csv``): ``test/top1``,
    ``test/knn_top1``, ``test/iou``...; a metric logged per batch of one of several
    loaders keeps Lightning's ``/dataloader_idx_N`` suffix there and here.

    Args:
        results: What ``trainer.validate``/``trainer.test`` returns: the metrics of
            each dataloader.
        stage: ``validate`` or ``test``.
    """
    metrics = {key: value for result in results for key, value in result.items()}
    if not metrics:
        return
    from rich.console import Console
    from rich.table import Column, Table

    name = "Validation metric" if stage == "validate" else "Test metric"
    table = Table(Column(name, style="cyan"), Column("Value", justify="right"))
    for key in sorted(metrics):
        table.add_row(key, f"{float(metrics[key]):.6g}")
    Console().print(table)


# What Lightning prints at every run that a user of `train` can do nothing about, kept
# off the screen by `known_noise_silenced`, each by its own message:
# - torch deprecates `LeafSpec`, which Lightning 2.6's utilities/_pytree.py still builds
#   (a FutureWarning for Lightning to fix, not for a user);
# - Lightning's adverts for its cloud services ("💡 Tip: For seamless cloud logging ...
#   litlogger", "... uploads and versioning ... litmodels"), logged as information.
LEAFSPEC_WARNING = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
ADVERTS = ("💡 Tip: For seamless cloud",)


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(ADVERTS)


@contextmanager
def known_noise_silenced() -> Iterator[None]:
    """Within it, Lightning's deprecation warning of torch's ``LeafSpec`` and its cloud
    adverts are not shown (see :data:`ADVERTS`); every other warning and message is."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_module

    log = rank_zero_module.log  # the logger of Lightning's rank_zero_info
    adverts = _DropAdverts()
    log.addFilter(adverts)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=LEAFSPEC_WARNING, category=FutureWarning)
            yield
    finally:
        log.removeFilter(adverts)


def _is_segmentation(class_path: str) -> bool:
    """Whether the model class ``class_path`` is a segmentation task."""
    from jsonargparse.typing import import_object

    from ssl_core.segmentation.base import SegmentationTask

    try:
        cls = import_object(class_path)
    except (ImportError, AttributeError, ValueError):
        return False
    return isinstance(cls, type) and issubclass(cls, SegmentationTask)


class FitOnlyCLI(SSLCLI):
    """``train`` with the ``fit`` subcommand alone: a parser built in half the time, for
    reading many experiments' merged configs (``fit --print_config``;
    :func:`ssl_core.stages.merged_config`)."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {"fit": LightningCLI.subcommands()["fit"]}


def cli(args: list[str] | None = None, cli_class: type[SSLCLI] = SSLCLI) -> SSLCLI:
    """Run ``train`` with ``args`` (default: ``sys.argv[1:]``); return the finished CLI."""
    if args is None:
        args = sys.argv[1:]
    # a bad input: one line, exit 1; Lightning's noise that no user can act on: not shown
    with exits_on_input_errors("train"), known_noise_silenced(), warnings.catch_warnings():
        # we hand LightningCLI the command line ourselves, amended (or a caller's, as the
        # pipeline's stages do): its warning that it differs from sys.argv says nothing
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        explicit, args = _pop_option(list(args), "--project")
        try:
            project = resolve_project(explicit)
        except ProjectResolutionError:
            if explicit or not _config_paths_only(args):
                raise
            project = None  # `train fit --config path/to/experiment.yaml` needs no project
        config, _ = _pop_option(list(args), "--config")  # the experiment, as the user named it
        if config is None and project is not None and not _pop_option(list(args), "-c")[0]:
            config = default_recipe(project)
        args = with_project_config(args, project, config)
        return cli_class(project, Path(config).stem if config else "cli", args=args)


def main(args: list[str] | None = None) -> None:
    """Console entry point of ``train`` (see :func:`cli`)."""
    cli(args)


if __name__ == "__main__":
    main()
