"""The ``train`` command: LightningCLI for every project package (docs/methods.md,
docs/evaluation.md)."""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from jsonargparse import Namespace
from lightning.pytorch import LightningDataModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities import rank_zero_warn

from ssl_core.errors import MissingInputError, exits_on_input_errors
from ssl_core.project import Project, ProjectResolutionError, extended, recipe, resolve_project
from ssl_core.resume import checkpoint_folders, checkpoint_step, evaluation_folder, last_run
from ssl_core.task import TaskModule
from ssl_core.threads import CpuThreads, CpuThreadsSetting

SUBCOMMANDS = ("fit", "validate", "test", "predict")
EVALUATIONS = ("validate", "test", "predict")  # a checkpoint's evaluations: they log beside it
# Lightning's warning of callback states in a checkpoint that no callback takes
MISSING_CALLBACKS_WARNING = "Be aware that when using `ckpt_path`, callbacks used to create"


def _option_values(args: list[str], *names: str) -> list[str]:
    """The values of every ``NAME VALUE`` of ``args``, in order."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in names]


def default_recipe(project: Project) -> str:
    """The config ``train`` runs when given none: the project's default, or on a machine
    without a GPU its CPU recipe (``<default>-cpu.yaml``) where the project has one."""
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
    """Fill in the default subcommand/config (``default``, else the project's), resolve
    config names of the project and expand what each config extends."""
    wants_help = any(a in ("-h", "--help") for a in args)
    if not any(a in SUBCOMMANDS for a in args) and not wants_help:
        args = ["fit", *args]  # no subcommand (``train``, ``train --print_config``): fit
    has_config = any(a in ("--config", "-c") for a in args)
    if args[0] in SUBCOMMANDS and not has_config and not wants_help and project is not None:
        args = [args[0], "--config", str(project.config(default)), *args[1:]]
    search = project.config_dir if project is not None else None
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and args[i - 1] in ("--config", "-c"):  # a path, or a project's config name
            out += extended(Path(arg) if Path(arg).exists() else project.config(arg), search)
        elif arg not in ("--config", "-c"):
            out.append(arg)
    return out


class SSLCLI(LightningCLI):
    """LightningCLI with project defaults: CSV logs in a run folder per config, a fit's last
    step validated, its ``last.ckpt`` at every epoch end and a writer for every predict."""

    def __init__(self, project: Project | None, config_name: str, **kwargs) -> None:
        self.project = project
        self.config_name = config_name
        super().__init__(
            model_class=TaskModule,  # embedding/classification methods and segmentation tasks
            subclass_mode_model=True,
            datamodule_class=LightningDataModule,
            subclass_mode_data=True,
            auto_configure_optimizers=False,  # the module builds them
            save_config_kwargs={"overwrite": True},
            **kwargs,
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
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
        config = self.config[self.subcommand] if self.subcommand else self.config
        self.trainer.callbacks.append(CpuThreads(config.get("cpu_threads", "auto")))

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        if trainer.default_root_dir is None:
            project = self.project.name if self.project else ""
            trainer.default_root_dir = str(Path("runs") / project / self.config_name)
        root = trainer.default_root_dir
        if self.subcommand in EVALUATIONS and config.ckpt_path == "last":
            config.ckpt_path = self._last_checkpoint(root)
        if trainer.logger in (None, True):
            version = None  # a fit: the next version_N
            if self.subcommand in EVALUATIONS:  # beside the fit it evaluates
                version = evaluation_folder(root, config.ckpt_path, self.subcommand)
            trainer.logger = Namespace(
                class_path="lightning.pytorch.loggers.CSVLogger",
                init_args=Namespace(save_dir=root, name="", version=version),
            )
        if self.subcommand == "predict":
            self._add_embedding_writer(config)
        if self.subcommand != "fit":
            return
        gpu_recipe = not self.config_name.endswith("-cpu") and self.project is not None
        wants_gpu = trainer.accelerator in ("auto", "gpu", "cuda")
        if gpu_recipe and wants_gpu and not torch.cuda.is_available():
            rank_zero_warn(
                f"No GPU found: {self.config_name} is a GPU recipe and will be slow here. "
                f"On a CPU try `--config {self.config_name}-cpu` if the project has it "
                f"(configs in {self.project.config_dir})."
            )
        _add_callback(config, "ssl_core.final_validation.ValidateAtLastStep")
        if trainer.enable_progress_bar is not False and not _has_callback(config, "ProgressBar"):
            _add_callback(config, "ssl_core.progress.StepProgressBar")  # steps of max_steps
        _ensure_last_checkpoint(config)
        if config.ckpt_path == "last":
            self._resume_last(config)

    def _resume_last(self, config) -> None:
        """``fit --ckpt_path last``: continue the newest ``version_N`` with a ``last.ckpt``,
        in its own folder and CSV log (see :mod:`ssl_core.resume`)."""
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
        """``validate|test|predict --ckpt_path last``: the newest fit's ``last.ckpt`` under
        ``root`` (Lightning would evaluate the untrained network with only a warning)."""
        found = last_run(root)
        if found is None:
            raise MissingInputError(
                f"--ckpt_path last: no run with a last.ckpt under {root} "
                "(fit first, or give the checkpoint's path)"
            )
        print(f"train: {self.subcommand} of {found[0]}")
        return str(found[0])

    def _evaluate(self, stage: str, ckpt_path: str | None = None, verbose: bool = False, **kwargs):
        """``trainer.<stage>`` of the checkpoint (metrics as one table where ``verbose``),
        without Lightning's warnings of the fit's callbacks that an evaluation lacks or whose
        folder differs (a resumed fit still warns of both)."""
        callbacks = [c for c in self.trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
        if ckpt_path and Path(ckpt_path).is_file() and callbacks:
            folders = checkpoint_folders(ckpt_path)
            for callback in callbacks:
                if callback.dirpath is None and callback.state_key in folders:
                    callback.dirpath = folders[callback.state_key]
        run = getattr(self.trainer, stage)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=MISSING_CALLBACKS_WARNING)
            if stage == "predict":
                return run(ckpt_path=ckpt_path, **kwargs)
            results = run(ckpt_path=ckpt_path, verbose=False, **kwargs)
        if verbose and self.trainer.is_global_zero:
            print_metrics(results, stage)

    validate = functools.partialmethod(_evaluate, "validate", verbose=True)
    test = functools.partialmethod(_evaluate, "test", verbose=True)
    predict = functools.partialmethod(_evaluate, "predict")

    def _add_embedding_writer(self, config) -> None:
        """``predict`` writes embeddings (:mod:`ssl_core.embeddings`), or a segmentation
        task's masks (:mod:`ssl_core.segmentation.writer`), unless the config has a writer."""
        from jsonargparse.typing import import_object

        from ssl_core.segmentation.base import SegmentationTask

        model = config.model.get("class_path") if isinstance(config.model, Namespace) else None
        try:
            segmentation = issubclass(import_object(model), SegmentationTask)
        except (ImportError, AttributeError, ValueError, TypeError):  # no class
            segmentation = False
        name = "MaskWriter" if segmentation else "EmbeddingWriter"
        module = "ssl_core.segmentation.writer" if segmentation else "ssl_core.embeddings"
        if not _has_callback(config, name):
            text = self._parser(self.subcommand).dump(config, skip_none=False)
            _add_callback(config, f"{module}.{name}", Namespace(config=text))


def _callbacks(config) -> list:
    callbacks = config.trainer.callbacks or []
    return list(callbacks) if isinstance(callbacks, list) else [callbacks]


def _has_callback(config, name: str) -> bool:
    return any(name in str(getattr(c, "class_path", c)) for c in _callbacks(config))


def _add_callback(config, class_path: str, init_args=None) -> None:
    if not _has_callback(config, class_path):
        callback = Namespace(class_path=class_path, init_args=init_args or Namespace())
        config.trainer.callbacks = [*_callbacks(config), callback]


def _ensure_last_checkpoint(config) -> None:
    """Give a fit a :class:`~ssl_core.resume.LastCheckpoint` (none if checkpointing is off);
    the config's ``ModelCheckpoint`` callbacks without a ``dirpath`` leave ``last.ckpt`` to
    it (else Lightning writes a second ``last-v1.ckpt``)."""
    if config.trainer.enable_checkpointing is False:
        return
    name = "ssl_core.resume.LastCheckpoint"
    _add_callback(config, name, Namespace(every_n_train_steps=None, dirpath=None))
    steps = config.get("checkpoint_every_n_train_steps")
    for callback in _callbacks(config):
        class_path = str(getattr(callback, "class_path", ""))
        args = getattr(callback, "init_args", None)
        if "ModelCheckpoint" in class_path and args is not None and args.get("dirpath") is None:
            args.save_last = False
        if steps is not None and name in class_path:
            args.every_n_train_steps = steps


def print_metrics(results: list[dict], stage: str) -> None:
    """Print ``trainer.validate|test``'s ``results`` (a dict per dataloader) as one table, a
    row per name (Lightning prints a column per dataloader, repeating the epoch-end metrics)."""
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


# Lightning's noise no user of `train` can act on (`known_noise_silenced`): torch's
# deprecation of `LeafSpec`, which Lightning 2.6 still builds, and its cloud adverts.
LEAFSPEC_WARNING = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
ADVERTS = ("💡 Tip: For seamless cloud",)


def _no_advert(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(ADVERTS)


@contextmanager
def known_noise_silenced() -> Iterator[None]:
    """Within it, :data:`LEAFSPEC_WARNING` and :data:`ADVERTS` are not shown; all else is."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_module

    log = rank_zero_module.log  # the logger of Lightning's rank_zero_info
    log.addFilter(_no_advert)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=LEAFSPEC_WARNING, category=FutureWarning)
            yield
    finally:
        log.removeFilter(_no_advert)


class FitOnlyCLI(SSLCLI):
    """``train`` with ``fit`` alone: a parser built in half the time, for reading many
    experiments' merged configs (:func:`ssl_core.stages.merged_config`)."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {"fit": LightningCLI.subcommands()["fit"]}


def cli(args: list[str] | None = None, cli_class: type[SSLCLI] = SSLCLI) -> SSLCLI:
    """Run ``train`` with ``args`` (default: ``sys.argv[1:]``); return the finished CLI."""
    args = sys.argv[1:] if args is None else args
    # a bad input: one line, exit 1; Lightning's noise that no user can act on: not shown
    with exits_on_input_errors("train"), known_noise_silenced(), warnings.catch_warnings():
        # we hand LightningCLI the command line, amended: its warning of that says nothing
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        split = ("--config=", "--project=")
        args = [part for a in args for part in (a.split("=", 1) if a.startswith(split) else [a])]
        explicit = next(iter(_option_values(args, "--project")), None)
        if explicit is not None:
            del args[args.index("--project") : args.index("--project") + 2]
        try:
            project = resolve_project(explicit)
        except ProjectResolutionError:
            paths = _option_values(args, "--config", "-c")
            if explicit or not paths or not all(Path(p).is_file() for p in paths):
                raise
            project = None  # `train fit --config path/to/experiment.yaml` needs no project
        config = next(iter(_option_values(args, "--config")), None)  # as the user named it
        if config is None and project is not None and not _option_values(args, "-c"):
            config = default_recipe(project)
        args = with_project_config(args, project, config)
        return cli_class(project, Path(config).stem if config else "cli", args=args)


def main(args: list[str] | None = None) -> None:
    cli(args)


if __name__ == "__main__":
    main()
