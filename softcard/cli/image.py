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

    show = images.add_parser("show", help="summarise an image (no secrets shown)")
    show.add_argument("path", metavar="PATH", type=Path)
    show.set_defaults(func=cmd_show)

    chk = images.add_parser("check", help="validate images; one line per image")
    chk.add_argument("paths", metavar="PATH", type=Path, nargs="+")
    chk.set_defaults(func=cmd_check)

    snap = images.add_parser(
        "snapshot", help="copy an image (also one a running card is using) to DEST"
    )
    snap.add_argument("image", metavar="IMAGE", type=Path)
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
        type=Path,
        help="serve the card in this image and save every state change back to it "
        "(the kind comes from the image; create one with 'softcard image new')",
    )
    # --card without a default here: with --image, only an explicit --card is compared.
    p.set_defaults(card=None)


class RunImage:
    """The image a `softcard run` serves, released when the run ends."""

    def __init__(self, served: ServedImage) -> None:
        self.served = served

    def close(self) -> None:
        self.served.__exit__(None, None, None)


def open_run_card(args: argparse.Namespace) -> tuple[CardOS, RunImage | None]:
    """The card `softcard run` serves: from --image if given (args.card becomes its kind)."""
    if args.image is None:
        args.card = args.card or DEFAULT_KIND
        return make_card(args.card, seed=args.seed), None
    # Only now: a plain run stays light (the image layer brings X.509 parsing along).
    from emulator.image import ImageError, ServedImage

    served = ServedImage(args.image, seed=args.seed)
    try:
        persistent = served.__enter__()
    except ImageError as e:
        raise CliError(str(e)) from None
    if args.card not in (None, persistent.kind):
        served.__exit__(None, None, None)
        raise CliError(f"{args.image}: holds a {persistent.kind} card, not {args.card}")
    args.card = persistent.kind
    return persistent.card, RunImage(served)
