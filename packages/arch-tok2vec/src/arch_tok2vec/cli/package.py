"""``archs package``: build a wheel and an sdist of a trained model folder, which
installs as a distribution of its own and loads by name."""

from pathlib import Path
from typing import Any, Optional

from .common import CommandError


def add_parsers(sub: Any) -> None:
    """Add ``package`` to the ``archs`` sub-command parsers."""
    p_package = sub.add_parser(
        "package",
        help="make a trained model a Python distribution: a wheel and an sdist with its card",
        description="Build OUTPUT_DIR/NAME-VERSION/ (a project with the model folder, its "
        "model card as README.md and a pyproject.toml) and its wheel and sdist in dist/ "
        "there. Once the wheel is installed, arch_tok2vec.load(NAME), archs evaluate NAME "
        "and archs info NAME find the model by name. Needs hatchling: "
        "pip install 'arch-tok2vec[package]'.",
    )
    p_package.add_argument("model", type=Path, help="the model folder, e.g. training/model-best")
    p_package.add_argument("output", type=Path, help="the folder for the project NAME-VERSION")
    p_package.add_argument(
        "--name",
        required=True,
        help="the distribution's name, which load() finds the model by (e.g. en_tagger_sm)",
    )
    p_package.add_argument(
        "--version", required=True, help="the distribution's version (PEP 440), e.g. 1.0.0"
    )
    p_package.add_argument(
        "--license",
        default=None,
        help="an SPDX license expression (e.g. MIT, CC-BY-SA-4.0); default: left for you to "
        "fill in ('other')",
    )
    p_package.add_argument(
        "--test",
        type=Path,
        default=None,
        help="a test corpus the model's task reads: scored now, the scores go in the card",
    )
    p_package.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing OUTPUT/NAME-VERSION folder (once the new one is built)",
    )
    p_package.set_defaults(
        run=lambda args, extra: cmd_package(
            args.model,
            args.output,
            args.name,
            args.version,
            args.license,
            args.test,
            args.overwrite,
        )
    )


def cmd_package(
    model: Path,
    output: Path,
    name: str,
    version: str,
    license: Optional[str],
    test: Optional[Path],
    overwrite: bool,
) -> int:
    from ..model_package import PackageError, package_model

    try:
        built = package_model(
            model, output, name, version, license=license, test=test, overwrite=overwrite
        )
    except PackageError as err:
        raise CommandError(str(err)) from None
    print(f"made {built.project}/ (the project; its README.md is the model card)")
    print(f"  wheel: {built.wheel}")
    print(f"  sdist: {built.sdist}")
    print(f"install it with: pip install {built.wheel}")
    print(f'then: arch_tok2vec.load("{name}"), archs evaluate {name} CORPUS, archs info {name}')
    return 0
