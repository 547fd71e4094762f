"""The builder's file: saving (a name for a new file, conflicts with edits made elsewhere),
leaving with unsaved edits, and following the file on disk.

The builder never overwrites an outside edit without asking: a save that finds
the file changed since it was loaded asks to reload, overwrite or save
elsewhere; the file is looked at every second, and an outside edit reloads by
itself when nothing is unsaved, or is offered otherwise. These run on the
builder's workers (they wait for the person's answers in dialogs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dltui.builder.document import DocumentError, SaveConflict
from dltui.safe_text import printable
from dltui.tui.builder.dialogs import ChoiceDialog, SaveAsDialog
from dltui.tui.builder.verdict import problem_line
from dltui.tui.launcher import refusal

if TYPE_CHECKING:
    from dltui.tui.builder.screen import BuilderScreen


async def save_flow(screen: BuilderScreen, *, launch: bool) -> None:
    """Save; with ``launch``, then `dltui check` the saved file and ask the app to start a run
    of it (refused, with the reasons, when the check finds problems)."""
    saved = await save(screen)
    if saved is None or not launch:
        return
    # dltui check on the file as saved: what the trainer would refuse is refused here.
    import asyncio

    from dltui.checks import check_file

    revision = screen.document.revision
    result = await asyncio.to_thread(check_file, saved)
    problems = [problem_line(p) for p in result.problems]
    if revision == screen.document.revision:
        screen.verdict = (revision, problems)
        screen.show_verdict()
    if problems:
        title, text = refusal(saved.name, problems)
        screen.notify(text, title=title, severity="error", timeout=12, markup=False)
        return
    from dltui.tui.messages import LaunchRequest

    screen.post_message(LaunchRequest(saved))
    screen.notify(f"launching {printable(saved.name, keep_newlines=False)}", markup=False)


async def save(screen: BuilderScreen) -> Path | None:
    """Save, resolving a missing name or a conflict with the person; the path or None."""
    target = screen.document.path
    if target is None and screen.new is not None:
        target = screen.new.path(screen.experiments_dir)  # the name given with n
    force = False
    while True:
        if target is None:
            suggestion = screen.template or ""
            target = await screen.app.push_screen_wait(
                SaveAsDialog(screen.experiments_dir, suggestion)
            )
            if target is None:
                return None
        try:
            path = screen.document.save(target, force=force)
        except SaveConflict as conflict:
            choice = await _ask_conflict(screen, conflict)
            if choice == "overwrite":
                force = True
                continue
            if choice == "reload":
                screen.document.reload()
                await screen.after_edit()
                screen.notify(f"reloaded {conflict.path.name}: your edits can be undone (u)")
                return None
            if choice == "save_as":
                target, force = None, False
                continue
            return None
        except (DocumentError, OSError) as exc:
            screen.notify(f"not saved: {exc}", severity="error", timeout=8)
            return None
        screen.offered_reload = False
        screen.new = None
        screen.show_title()
        count = len(screen.verdict_problems or [])
        suffix = f" — {count} {'problem' if count == 1 else 'problems'} left" if count else ""
        screen.notify(
            printable(f"saved {path}{suffix}"),
            severity="warning" if count else "information",
            markup=False,
        )
        return path


async def _ask_conflict(screen: BuilderScreen, conflict: SaveConflict) -> str | None:
    if conflict.exists:
        dialog = ChoiceDialog(
            "File exists",
            f"{conflict.path} already exists.",
            [("overwrite", "Overwrite"), ("save_as", "Other name"), ("cancel", "Cancel")],
        )
    else:
        dialog = ChoiceDialog(
            "Changed on disk",
            f"{conflict.path} was changed by someone else since it was loaded.\n"
            "Reload it (your edits stay undoable), overwrite it with yours, or save yours "
            "under another name?",
            [
                ("reload", "Reload"),
                ("overwrite", "Overwrite"),
                ("save_as", "Save as"),
                ("cancel", "Cancel"),
            ],
        )
    return await screen.app.push_screen_wait(dialog)


async def leave(screen: BuilderScreen) -> None:
    """Leave the builder, asking first when there are unsaved edits."""
    if screen.document.dirty:
        choice = await screen.app.push_screen_wait(
            ChoiceDialog(
                "Unsaved changes",
                "Save the experiment before leaving?",
                [("save", "Save"), ("discard", "Discard"), ("cancel", "Cancel")],
            )
        )
        if choice == "save":
            if await save(screen) is None:
                return
        elif choice != "discard":
            return
    screen.dismiss(screen.document.path)


async def check_disk(screen: BuilderScreen) -> None:
    """Look at the file on disk: reload outside edits when nothing is unsaved, else offer to."""
    state = screen.document.disk_state()
    if state == "deleted" and not screen.announced_deleted:
        screen.announced_deleted = True
        screen.notify(
            f"{screen.document.path} was deleted; save (ctrl+s) to write it again",
            severity="warning",
            timeout=8,
        )
    if state != "changed":
        if state == "unchanged":
            screen.announced_deleted = False
        return
    path = screen.document.path
    assert path is not None
    if not screen.document.dirty:
        try:
            screen.document.reload()
        except DocumentError as exc:
            if not screen.offered_reload:
                screen.offered_reload = True
                screen.notify(f"changed on disk and unreadable: {exc}", severity="warning")
            return
        await screen.after_edit()
        screen.notify(f"reloaded {path.name}: it changed on disk")
    elif not screen.offered_reload:
        screen.offered_reload = True
        screen.run_worker(_offer_reload(screen, path), exclusive=True, group="builder-reload")


async def _offer_reload(screen: BuilderScreen, path: Path) -> None:
    choice = await screen.app.push_screen_wait(
        ChoiceDialog(
            "Changed on disk",
            f"{path} changed on disk and you have unsaved edits.\n"
            "Reload it (your edits stay undoable with u), or keep editing yours "
            "(saving will ask before overwriting)?",
            [("reload", "Reload"), ("keep", "Keep mine")],
        )
    )
    if choice == "reload":
        try:
            screen.document.reload()
        except DocumentError as exc:
            screen.notify(str(exc), severity="error")
            return
        await screen.after_edit()
