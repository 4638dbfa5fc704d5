"""`softcard image`: create, inspect, check, snapshot and restore card images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.core.card import CardOS
from emulator.profiles import kinds, make_card

from .errors import CliError

if TYPE_CHECKING:
    from emulator.image import (
        ServedImage,
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "image",
        help="create, show, check, snapshot and restore card images",
        description="Card images hold a whole card (test material: PINs and private keys "
        "in the clear, files written 0600). See docs/card-images.md.",
    )
    images = p.add_subparsers(dest="image_command", metavar="ACTION", required=True)

    new = images.add_parser("new", help="create a factory-fresh card image")
    new.add_argument("--card", required=True, choices=kinds(), help="card kind")
    new.add_argument("--seed", type=int, help="deterministic card: same seed, same card")
    new.add_argument("--description", default="", help="free text stored in the image")
    new.add_argument("--force", action="store_true", help="replace OUT if it exists")
    new.add_argument("out", metavar="OUT", type=Path, help="image file to write")
    new.set_defaults(func=cmd_new)

    listing = images.add_parser(
        "list", help="the sample images that ship with softcard (use them as sample:NAME)"
    )
    listing.add_argument("--paths", action="store_true", help="also where each file is")
    listing.set_defaults(func=cmd_list)

    show = images.add_parser("show", help="summarise an image (no secrets shown)")
    show.add_argument("path", metavar="PATH", type=image_arg)
    show.set_defaults(func=cmd_show)

    chk = images.add_parser("check", help="validate images; one line per image")
    chk.add_argument("paths", metavar="PATH", type=image_arg, nargs="+")
    chk.set_defaults(func=cmd_check)

    snap = images.add_parser(
        "snapshot", help="copy an image (also one a running card is using) to DEST"
    )
    snap.add_argument("image", metavar="IMAGE", type=image_arg)
    snap.add_argument("dest", metavar="DEST", type=Path)
    snap.add_argument("--force", action="store_true", help="replace DEST if it exists")
    snap.set_defaults(func=cmd_snapshot)

    restore = images.add_parser(
        "restore",
        help="put a snapshot's state into IMAGE (into the running card if one serves it)",
    )
    restore.add_argument("snapshot", metavar="SNAPSHOT", type=Path)
    restore.add_argument("image", metavar="IMAGE", type=Path)
    restore.set_defaults(func=cmd_restore)


def image_arg(text: str) -> Path:
    """An image argument: a path, or `sample:NAME` for a sample that ships with softcard."""
    from ..samples import SampleError, resolve

    try:
        return resolve(text)
    except SampleError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_list(args: argparse.Namespace) -> int:
    from ..samples import samples

    found = samples()
    if not found:
        raise CliError("no sample images are installed")
    width = max(len(s.ref) for s in found)
    for sample in found:
        print(f"{sample.ref:<{width}}  {sample.kind:<4}  {sample.description}")
        if args.paths:
            print(f"{'':<{width}}        {sample.path}")
    print(
        "\nsoftcard run --image sample:NAME serves a private copy (the sample stays as "
        "shipped);\nsoftcard image snapshot sample:NAME FILE makes a copy of your own."
    )
    return 0


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise CliError(f"{path}: exists already (use --force to replace it)")


def cmd_new(args: argparse.Namespace) -> int:
    from emulator.image import ImageError, new_image, save

    _refuse_overwrite(args.out, args.force)
    try:
        save(new_image(args.card, seed=args.seed, description=args.description), args.out)
    except ImageError as e:
        raise CliError(str(e)) from None
    print(f"softcard: created a factory-fresh {args.card} card in {args.out}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from emulator.image import ImageError, check, summarise

    try:
        image = check(args.path)
    except ImageError as e:
        raise CliError(str(e)) from None
    print("\n".join(summarise(image, str(args.path))))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from emulator.image import ImageError, check

    bad = 0
    for path in args.paths:
        try:
            image = check(path)
        except ImageError as e:
            print(f"softcard: {e}", file=sys.stderr)
            bad += 1
            continue
        migrated = f", migrated from version {image.source_version}" if image.migrated else ""
        print(f"{path}: ok ({image.kind} card{migrated})")
    return 1 if bad else 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from emulator.image import ImageError, snapshot_file

    _refuse_overwrite(args.dest, args.force)
    try:
        snapshot_file(args.image, args.dest)
    except ImageError as e:
        raise CliError(str(e)) from None
    print(f"softcard: snapshot of {args.image} in {args.dest}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from emulator.image import ImageError, restore_file

    try:
        what = restore_file(args.snapshot, args.image)
    except ImageError as e:
        raise CliError(str(e)) from None
    print(f"softcard: {args.image} {what} from {args.snapshot}")
    return 0


# -- `softcard run --image` ----------------------------------------------------------------

DEFAULT_KIND = "iso"


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image",
        metavar="PATH",
        type=_run_image_arg,
        help="serve the card in this image and save every state change back to it "
        "(the kind comes from the image; create one with 'softcard image new'); "
        "sample:NAME serves a private copy of a shipped sample (softcard image list)",
    )
    # --card without a default here: with --image, only an explicit --card is compared.
    p.set_defaults(card=None)


def _run_image_arg(text: str) -> Path:
    """`--image`: a path, or a sample (checked now, so a wrong name is a usage error)."""
    from ..samples import is_ref

    if is_ref(text):
        image_arg(text)
        return Path(text)
    return Path(text)


class RunImage:
    """The image a `softcard run` serves, released when the run ends (a sample's private
    copy is removed then)."""

    def __init__(self, served: ServedImage, scratch: Path | None = None) -> None:
        self.served = served
        self.scratch = scratch

    def close(self) -> None:
        self.served.__exit__(None, None, None)
        if self.scratch is not None:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)


def open_run_card(args: argparse.Namespace) -> tuple[CardOS, RunImage | None]:
    """The card `softcard run` serves: from --image if given (args.card becomes its kind)."""
    if args.image is None:
        args.card = args.card or DEFAULT_KIND
        return make_card(args.card, seed=args.seed), None
    # Only now: a plain run stays light (the image layer brings X.509 parsing along).
    from emulator.image import ImageError, ServedImage

    path, scratch = _served_path(args.image)
    served = ServedImage(path, seed=args.seed)
    try:
        persistent = served.__enter__()
    except ImageError as e:
        raise CliError(str(e)) from None
    run_image = RunImage(served, scratch)
    if args.card not in (None, persistent.kind):
        run_image.close()
        raise CliError(f"{args.image}: holds a {persistent.kind} card, not {args.card}")
    args.card = persistent.kind
    return persistent.card, run_image


def _served_path(image: Path) -> tuple[Path, Path | None]:
    """The file a run serves: the image itself, or a private copy of a sample in a scratch
    directory (removed when the run ends)."""
    import tempfile

    from emulator.image import ImageError, snapshot_file

    from ..samples import SampleError, find, is_ref

    if not is_ref(image):
        return image, None
    try:
        sample = find(str(image))
    except SampleError as e:
        raise CliError(str(e)) from None
    scratch = Path(tempfile.mkdtemp(prefix="softcard-sample-"))
    copy = scratch / f"{sample.name}.json"
    try:
        snapshot_file(sample.path, copy)
    except ImageError as e:
        raise CliError(str(e)) from None
    return copy, scratch
